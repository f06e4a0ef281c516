"""Hot-path queries compiled by the ORM once per thread, run as prepared SQL.

Building a query through the ORM (joins, select_related, annotations) cost several times more
than the database needs to answer it. `query(name, queryset, stand_ins)` compiles `queryset()`
(built with stand-in values) once per thread and connection; `fetch(values)` runs its SQL with
the request's values in the stand-ins' places and turns the row back into model instances with
the backend's own converters, as the ORM would. The queryset stays the one description of
the query: nothing is written twice in SQL.

`insert(instance)` is the same for the hot paths' new rows (authorization codes, refresh
families and tokens): the model's INSERT as the ORM compiles it, once per model and connection,
run with the instance's values prepared by each field as the ORM would (`pre_save`, then
`get_db_prep_save`). `write(writes)` stores several updates and inserts atomically: one
statement on PostgreSQL, one transaction elsewhere (a sign-in's writes).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import threading
import uuid
from collections.abc import Hashable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import CharField, Field, TextField, signals
from django.db.models.base import Model, ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.sql import InsertQuery
from django.utils.asyncio import async_unsafe

_compiled = threading.local()


@dataclass(frozen=True)
class Compiled:
    """A query's SQL as the ORM compiled it, with what turns a row back into model
    instances: the columns of each model, the annotations' positions and the backend's value
    converters."""

    sql: str
    params: tuple
    slots: dict[int, tuple[str, str | None]]  # parameter index -> (which value, as what)
    columns: dict[type, list[tuple[int, str]]]  # model -> [(row index, attname)]
    annotations: dict[str, int]
    compiler: object
    converters: dict

    @classmethod
    def build(cls, queryset, names: dict) -> Compiled:
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, params = compiler.as_sql()
        slots = {}
        for index, value in enumerate(params):
            for stand_in, name in names.items():
                if value == stand_in:
                    slots[index] = (name, None)
                elif isinstance(stand_in, uuid.UUID) and value == stand_in.hex:
                    slots[index] = (name, "hex")  # SQLite keeps UUIDs as hex text
        columns: dict[type, list[tuple[int, str]]] = {}
        for index, (expression, _sql, _alias) in enumerate(compiler.select):
            target = getattr(expression, "target", None)
            if target is not None and index not in compiler.annotation_col_map.values():
                columns.setdefault(target.model, []).append((index, target.attname))
        converters = compiler.get_converters([column[0] for column in compiler.select])
        return cls(
            sql=sql,
            params=tuple(params),
            slots=slots,
            columns=columns,
            annotations=dict(compiler.annotation_col_map),
            compiler=compiler,
            converters=converters,
        )

    @functools.cached_property
    def _readers(self) -> tuple[tuple[type, tuple[str, ...], operator.itemgetter], ...]:
        """Per model: its fields' attnames and what picks their values out of a row."""
        return tuple(
            (model, tuple(name for _, name in cols), _picker([index for index, _ in cols]))
            for model, cols in self.columns.items()
        )

    def _params(self, values: dict) -> list:
        params = list(self.params)
        for index, (name, form) in self.slots.items():
            params[index] = values[name].hex if form == "hex" else values[name]
        return params

    def fetch(self, values: dict[str, str]) -> dict | None:
        row = run(self.sql, self._params(values), rows="one")
        if row is None:
            return None
        if self.converters:
            row = self._converted(row)
        built = {}
        for model, names, picked in self._readers:
            built[model] = _maker(model, names)(picked(row))
        for name, index in self.annotations.items():
            built[name] = row[index]
        return built

    @functools.cached_property
    def _conversions(self) -> tuple[tuple[int, tuple, object], ...]:
        """Per converted column: its position, its converters and their expression."""
        return tuple(
            (position, tuple(converters), expression)
            for position, (converters, expression) in self.converters.items()
        )

    def _converted(self, row: tuple) -> list:
        """One row through the backend's and fields' converters, as the compiler's
        apply_converters turns it (which makes a generator and a list of its converters for
        every call: a tenth of the conversion of the refresh read's one row)."""
        row = list(row)
        connection = self.compiler.connection
        for position, converters, expression in self._conversions:
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
        return row

    def fetch_all(self, values: dict, model: type) -> list:
        """Every row, as instances of `model` (the query selects no other model) with the
        annotations set as attributes, as the ORM's iteration would make them: the rows of a
        listing without the ORM's per-row bookkeeping."""
        rows = run(self.sql, self._params(values), rows="all")
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        columns = self.columns[model]
        names = tuple(name for _, name in columns)
        picked = _picker([index for index, _ in columns])
        annotations = list(self.annotations.items())
        make = _maker(model, names)
        built = []
        for row in rows:
            instance = make(picked(row))
            for name, index in annotations:
                setattr(instance, name, row[index])
            built.append(instance)
        return built


@async_unsafe
def run(sql: str, params: list, *, rows: str | None = None):
    """Run `sql` (in Django's placeholders) with `params`. `rows`: "one" returns the first row,
    "all" every row, None (a write) the number of rows it changed.

    On a backend that says how its cursor hands a statement to the driver (`driver_sql` and
    `driver_cursor`: config/sqlite, config/postgresql) and when nothing watches the queries
    (no debug cursor, no execute wrapper: the tests' query counts see every statement through
    Django's cursor), the statement runs on the driver's own cursor. Django's cursor wraps
    each execute in several layers (the cursor wrapper, its execute wrappers, two
    database-error guards, the backend's parameter check): without them a userInfo answer
    takes 3 % fewer instructions on SQLite and 3.5 % fewer on PostgreSQL (callgrind). The
    checks those layers make still run here: the health check and connection, the thread, a
    broken transaction, database errors raised as Django's, and no database call
    from async code."""
    connection = connections[DEFAULT_DB_ALIAS]
    driver_sql = getattr(connection, "driver_sql", None)
    if driver_sql is None or connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _result(cursor, rows)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = connection.driver_cursor()
        try:
            cursor.execute(driver_sql(sql), params)
            return _result(cursor, rows)
        finally:
            cursor.close()


def _result(cursor, rows: str | None):
    if rows == "one":
        return cursor.fetchone()
    if rows == "all":
        return cursor.fetchall()
    return cursor.rowcount


def _picker(indexes: list[int]):
    """What takes the values at `indexes` out of a row, as a tuple."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    return operator.itemgetter(*indexes)


def _maker(model: type, names: tuple[str, ...]):
    """What turns a row's values (the fields `names`, in order) into an instance: what
    `Model.from_db` makes, without `Model.__init__`'s per-field setattr loop (most of the cost
    of a page of 60 users) where that loop only fills the instance's __dict__: the model keeps
    Django's __init__ and from_db, every field is read through Django's plain descriptors,
    and no pre_init/post_init receiver is connected (asked on every call: one may be
    connected at any time). A field not in `names` is deferred, as from_db leaves it: absent
    from __dict__, loaded by its descriptor when first read."""
    make = _plain_maker(model, names)
    if make is None or (
        # No receiver at all (the usual case) is one look at each signal's list; with some,
        # Django's own question for this model (each asks its cache under a lock).
        (signals.pre_init.receivers or signals.post_init.receivers)
        and (signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))
    ):
        return lambda values: model.from_db(DEFAULT_DB_ALIAS, list(names), list(values))
    return make


@functools.lru_cache(maxsize=256)
def _plain_maker(model: type, names: tuple[str, ...]):
    """_maker's instance builder for `names` of `model`, or None when the model or one of
    the fields is not plain (_plain_attnames). Kept: it depends on the classes only."""
    plain = _plain_attnames(model)
    if plain is None or not (list(names) == plain or _plain_set(model).issuperset(names)):
        return None

    def make(values):
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, DEFAULT_DB_ALIAS
        return instance

    return make


@functools.cache
def _plain_attnames(model: type) -> list[str] | None:
    """The attnames of `model`'s concrete fields when each one's class attribute is one of
    Django's plain descriptors (setting it only writes the instance's __dict__); else None."""
    fields = model._meta.concrete_fields
    if model.__init__ is not Model.__init__ or model.from_db.__func__ is not Model.from_db.__func__:
        return None  # the model makes its instances its own way
    if all(type(model.__dict__.get(f.attname)) in _PLAIN for f in fields):
        return [f.attname for f in fields]
    return None


@functools.cache
def _plain_set(model: type) -> frozenset[str]:
    return frozenset(_plain_attnames(model) or ())


_PLAIN = (DeferredAttribute, ForeignKeyDeferredAttribute)


# Queries kept per thread at most: a name can be a query's shape (a search's attribute,
# operator, page size...), so their number is bounded here rather than by every caller.
MAX_KEPT = 512


def query(name: Hashable, queryset, names: dict) -> Compiled:
    """This thread's compiled query `name` (each thread has its own database connection):
    `queryset()` built with stand-in values, `names` maps each stand-in to its slot name.
    A queryset that can match nothing raises EmptyResultSet here (nothing is kept)."""
    connection = connections[DEFAULT_DB_ALIAS]
    kept_all = getattr(_compiled, "kept", None)
    if kept_all is None:
        kept_all = _compiled.kept = {}
    kept = kept_all.get(name)
    if kept is None or kept[0] is not connection:
        if len(kept_all) >= MAX_KEPT:
            kept_all.clear()
        kept = (connection, Compiled.build(queryset(), names))
        kept_all[name] = kept
    return kept[1]


@dataclass(frozen=True)
class CompiledInsert:
    """A model's INSERT of one row with every concrete field, as the ORM compiled it."""

    sql: str
    fields: tuple
    text: tuple  # per field: whether a non-empty str is stored as it is (see _stores_text)

    @classmethod
    def build(cls, model: type[Model], connection) -> CompiledInsert:
        # A key the database generates (an AutoField's) is left to it, as the ORM does.
        fields = tuple(f for f in model._meta.local_concrete_fields if not f.db_returning)
        query = InsertQuery(model)
        query.insert_values(fields, [model()], raw=False)
        [(sql, _params)] = query.get_compiler(connection=connection).as_sql()
        return cls(sql=sql, fields=fields, text=tuple(_stores_text(f) for f in fields))

    def params(self, instance: Model, connection) -> list:
        """`instance`'s values in the statement's order, prepared as the ORM's save does."""
        values = []
        for field, text in zip(self.fields, self.text, strict=True):
            if text:
                value = getattr(instance, field.attname)  # what Field.pre_save returns
                if type(value) is str and value:
                    values.append(value)  # what get_db_prep_save returns for it
                    continue
            values.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
        return values

    def selecting_from(self, source: str) -> str:
        """The same INSERT taking its one row from `SELECT <values> FROM source`: in a
        data-modifying CTE, it inserts only when `source` (an earlier part) returned a row."""
        head, values = self.sql.rsplit(" VALUES ", 1)
        return f"{head} SELECT {values.strip()[1:-1]} FROM {source}"  # noqa: S608 (names only)


def _stores_text(field) -> bool:
    """Whether the ORM stores a non-empty str value of `field` unchanged: an exact CharField
    or TextField (get_db_prep_save is the identity for a str), or a foreign key to one (which
    passes a non-empty value to it), whose pre_save only reads the attribute. Preparing those
    values through each field's chain of calls was a fifth of an authorization code's INSERT."""
    target = field.target_field if field.is_relation else field
    return type(target) in (CharField, TextField) and type(field).pre_save is Field.pre_save


def insert_statement(model: type[Model]) -> CompiledInsert:
    """This thread's compiled INSERT of `model`."""
    connection = connections[DEFAULT_DB_ALIAS]
    name = f"insert:{model._meta.label}"
    kept = getattr(_compiled, name, None)
    if kept is None or kept[0] is not connection:
        kept = (connection, CompiledInsert.build(model, connection))
        setattr(_compiled, name, kept)
    return kept[1]


def insert(instance: Model) -> None:
    """Store `instance` as a new row: what `instance.save(force_insert=True)` does for a model
    whose primary key is set before the insert (no RETURNING, no save signals; none of the
    hot paths' models has receivers), without building the query each time. A key the
    database generates (AuthEvent's) is not read back: the instance's pk stays None."""
    connection = connections[DEFAULT_DB_ALIAS]
    statement = insert_statement(type(instance))
    run(statement.sql, statement.params(instance, connection))
    stored(instance)


def stored(instance: Model) -> None:
    """Mark `instance` as saved, as the ORM does after its INSERT."""
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in names)
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"UPDATE {table} SET {columns} WHERE {key} = %s"  # noqa: S608 (names only)


def _update_params(instance: Model, names: tuple[str, ...], connection) -> list:
    meta = instance._meta
    params = [
        meta.get_field(n).get_db_prep_save(getattr(instance, meta.get_field(n).attname), connection)
        for n in names
    ]
    params.append(meta.pk.get_db_prep_value(instance.pk, connection))
    return params


def update(instance: Model, *names: str) -> None:
    """Write `instance`'s current values of the fields `names` to its row: what
    `type(instance).objects.filter(pk=instance.pk).update(...)` does with them (no auto_now,
    no signals), without building the query each time (a sign-in stamps its user so)."""
    connection = connections[DEFAULT_DB_ALIAS]
    run(
        _update_sql(type(instance), names, connection.vendor),
        _update_params(instance, names, connection),
    )


@dataclass(frozen=True)
class Writes:
    """Rows to change (each with the fields whose current values to write) and new rows, to
    store together with `write`: a completed sign-in's stamps and event, and, when the JSON API
    answers it with tokens, its refresh family and token (pool.services.tokens)."""

    updates: tuple[tuple[Model, tuple[str, ...]], ...] = ()
    inserts: tuple[Model, ...] = ()

    def adding(self, *rows: Model) -> Writes:
        """These writes and the new `rows` after them."""
        return Writes(updates=self.updates, inserts=self.inserts + rows)


def write(writes: Writes) -> None:
    """Store `writes` atomically, each as `update` and `insert` do. On PostgreSQL one statement:
    every UPDATE and every INSERT but the last a data-modifying CTE of the last INSERT (all or
    nothing, one round trip; Django's foreign keys are checked at commit, so a row may name one
    inserted beside it, as a refresh token its family). Elsewhere each statement in one
    transaction (SQLite: one write lock and one commit instead of one per statement), joined
    to the caller's when there is one; a single statement needs none."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql" and writes.inserts:
        run(_combined_sql(_shape(writes), connection.vendor), _combined_params(writes, connection))
        for row in writes.inserts:
            stored(row)
        return
    if len(writes.updates) + len(writes.inserts) == 1:
        atomically = contextlib.nullcontext()  # one statement is atomic on its own
    else:
        atomically = transaction.atomic(savepoint=False)
    with atomically:
        for instance, names in writes.updates:
            update(instance, *names)
        for row in writes.inserts:
            insert(row)


def _shape(writes: Writes) -> tuple:
    """What the combined statement of `writes` depends on: the models and fields, not values."""
    return (
        tuple((type(instance), names) for instance, names in writes.updates),
        tuple(type(row) for row in writes.inserts),
    )


@functools.lru_cache(maxsize=64)
def _combined_sql(shape: tuple, vendor: str) -> str:
    """PostgreSQL's one statement for writes of this shape (see `write`)."""
    updates, inserts = shape
    parts = [_update_sql(model, names, vendor) for model, names in updates]
    parts += [insert_statement(model).sql for model in inserts[:-1]]
    ctes = ", ".join(f"w{index} AS ({sql})" for index, sql in enumerate(parts))
    last = insert_statement(inserts[-1]).sql
    return f"WITH {ctes} {last}" if ctes else last


def _combined_params(writes: Writes, connection) -> list:
    params = []
    for instance, names in writes.updates:
        params += _update_params(instance, names, connection)
    for row in writes.inserts:
        params += insert_statement(type(row)).params(row, connection)
    return params
