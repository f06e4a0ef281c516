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
`get_db_prep_save`).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.sql import InsertQuery

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

    def fetch(self, values: dict[str, str]) -> dict | None:
        params = list(self.params)
        for index, (name, form) in self.slots.items():
            params[index] = values[name].hex if form == "hex" else values[name]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        built = {}
        for model, cols in self.columns.items():
            built[model] = model.from_db(
                DEFAULT_DB_ALIAS, [name for _, name in cols], [row[i] for i, _ in cols]
            )
        for name, index in self.annotations.items():
            built[name] = row[index]
        return built


def query(name: str, queryset, names: dict) -> Compiled:
    """This thread's compiled query `name` (each thread has its own database connection):
    `queryset()` built with stand-in values, `names` maps each stand-in to its slot name."""
    connection = connections[DEFAULT_DB_ALIAS]
    kept = getattr(_compiled, name, None)
    if kept is None or kept[0] is not connection:
        kept = (connection, Compiled.build(queryset(), names))
        setattr(_compiled, name, kept)
    return kept[1]


@dataclass(frozen=True)
class CompiledInsert:
    """A model's INSERT of one row with every concrete field, as the ORM compiled it."""

    sql: str
    fields: tuple

    @classmethod
    def build(cls, model: type[Model], connection) -> CompiledInsert:
        fields = tuple(model._meta.local_concrete_fields)
        query = InsertQuery(model)
        query.insert_values(fields, [model()], raw=False)
        [(sql, _params)] = query.get_compiler(connection=connection).as_sql()
        return cls(sql=sql, fields=fields)

    def params(self, instance: Model, connection) -> list:
        """`instance`'s values in the statement's order, prepared as the ORM's save does."""
        return [
            field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
            for field in self.fields
        ]

    def selecting_from(self, source: str) -> str:
        """The same INSERT taking its one row from `SELECT <values> FROM source`: in a
        data-modifying CTE, it inserts only when `source` (an earlier part) returned a row."""
        head, values = self.sql.rsplit(" VALUES ", 1)
        return f"{head} SELECT {values.strip()[1:-1]} FROM {source}"  # noqa: S608 (names only)


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
    hot paths' models has receivers), without building the query each time."""
    connection = connections[DEFAULT_DB_ALIAS]
    statement = insert_statement(type(instance))
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params(instance, connection))
    stored(instance)


def stored(instance: Model) -> None:
    """Mark `instance` as saved, as the ORM does after its INSERT."""
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
