"""settrigger POOL_ID KIND (--webhook URL [--secret S] | --callable dotted.path | --remove)
[--version V1_0|V2_0|V3_0] [--code-key BASE64]: configure one of a pool's triggers
(pool/services/triggers.py)."""

from __future__ import annotations

from pool.management.commands._common import CognateCommand, get_pool
from pool.models import TriggerKind
from pool.services import triggers


class Command(CognateCommand):
    help = (
        "Point a pool's trigger (PreSignUp, PostConfirmation, PreAuthentication, "
        "PostAuthentication, CustomMessage, PreTokenGeneration, CustomEmailSender, "
        "CustomSMSSender) at a webhook or a Python callable, or remove it. A webhook without "
        "--secret gets a new secret, a custom sender without --code-key a new code key: each "
        "printed once."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the trigger's event version here (as Cognito's LambdaVersion), not
        # Django's: let it replace the built-in option.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("pool_id")
        parser.add_argument("kind", help=", ".join(TriggerKind.values))
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--webhook", metavar="URL", help="https URL (http only to loopback)")
        target.add_argument("--callable", metavar="DOTTED.PATH", help="handler(event, context)")
        target.add_argument("--remove", action="store_true", help="remove the trigger")
        parser.add_argument("--secret", help="the webhook's HMAC secret (16+ characters)")
        parser.add_argument(
            "--version",
            dest="lambda_version",
            choices=["V1_0", "V2_0", "V3_0"],
            help="PreTokenGeneration event version (default V1_0)",
        )
        parser.add_argument(
            "--code-key",
            help="a custom sender's AES-256 key for request.code (base64 of 32 bytes)",
        )

    def run(self, **options):
        pool = get_pool(options["pool_id"])
        if options["remove"]:
            removed = triggers.remove_trigger(pool=pool, kind=options["kind"])
            return {"pool_id": pool.id, "kind": options["kind"], "removed": removed}
        setting = triggers.set_trigger(
            pool=pool,
            kind=options["kind"],
            webhook=options["webhook"],
            secret=options["secret"],
            python=options["callable"],
            version=options["lambda_version"],
            code_key=options["code_key"],
        )
        result = {
            "pool_id": pool.id,
            "kind": setting.kind,
            "transport": setting.transport,
            "target": setting.target,
            "version": setting.version,
        }
        if setting.new_secret:
            result["secret"] = setting.new_secret
        if setting.new_code_key:
            result["code_key"] = setting.new_code_key
        return result
