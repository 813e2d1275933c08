"""Whether a release's new migrations keep the version serving now working
(docs/releases.md, "Expand, then contract").

A release runs its migrations before any traffic moves, and while its smoke test and its
steps run (and after any rollback) the previous version serves from the migrated
database. So a migration may only *expand* the schema: add tables, nullable columns or
columns with a database default, indexes. What would break the previous version's
queries, a *contract*, waits for a later release, once no serving version uses the old
shape:

- removing a table or a column (DeleteModel, RemoveField), renaming one (RenameModel,
  RenameField, AlterModelTable, a changed db_column), as the old code still names it;
- adding a NOT NULL column with no database default, or making a column NOT NULL: the
  old code's inserts leave it out.

RunSQL and RunPython cannot be read: they are listed as unchecked, for a person to look at.

    python -m infra.migration_safety PATH...   # prints {"contracts": [...], "unchecked": [...]}

Run by cms.lambda_build in the build copy (the runtime virtualenv, Django set up with the
build's placeholder settings); PATHs are migration files relative to the project root.
"""

import json
import sys
from pathlib import Path

DESTRUCTIVE = {
    "DeleteModel": "drops table {model}",
    "RemoveField": "drops column {model}.{name}",
    "RenameModel": "renames table {old_name} to {new_name}",
    "RenameField": "renames column {model}.{old_name} to {new_name}",
    "AlterModelTable": "renames table of {model} to {table}",
}
UNREADABLE = {"RunSQL", "RunPython"}


def _not_null_without_default(field) -> bool:
    if field.many_to_many or field.null:
        return False
    return not field.has_db_default()


def check_operation(operation, state_before, app_label: str) -> tuple[str | None, bool]:
    """(what it breaks for the previous version or None, whether it could be read)."""
    kind = type(operation).__name__
    if kind in UNREADABLE:
        return None, False
    if kind in DESTRUCTIVE:
        values = {k: getattr(operation, k, "") for k in ("name", "old_name", "new_name", "table")}
        values["model"] = getattr(operation, "model_name", None) or getattr(operation, "name", "")
        return DESTRUCTIVE[kind].format(**values), True
    if kind == "AddField":
        if _not_null_without_default(operation.field):
            return (
                f"adds NOT NULL column {operation.model_name}.{operation.name} with no "
                "database default (give it db_default=…, or null=True first)",
                True,
            )
        return None, True
    if kind == "AlterField":
        model = state_before.models.get((app_label, operation.model_name_lower))
        old = model.fields.get(operation.name) if model else None
        new = operation.field
        if old is None:
            return None, True
        if old.null and _not_null_without_default(new):
            return f"makes {operation.model_name}.{operation.name} NOT NULL", True
        if (old.db_column or operation.name) != (new.db_column or operation.name):
            return f"renames column {operation.model_name}.{operation.name}", True
    return None, True


def check(paths: list[str], root: Path) -> dict:
    """The contracts and the unreadable operations in the migrations at ``paths``."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    by_directory = {Path(c.path).resolve(): c.label for c in apps.get_app_configs()}
    contracts, unchecked = [], []
    for path in paths:
        file = (root / path).resolve()
        label = by_directory.get(file.parent.parent)
        key = (label, file.stem)
        if key not in loader.disk_migrations:
            unchecked.append({"migration": path, "operation": "not a migration Django loads"})
            continue
        migration = loader.disk_migrations[key]
        state = loader.project_state(key, at_end=False)
        for operation in migration.operations:
            broken, readable = check_operation(operation, state, label)
            name = f"{label}.{file.stem}"
            if broken:
                contracts.append({"migration": name, "operation": broken})
            elif not readable:
                unchecked.append({"migration": name, "operation": type(operation).__name__})
            state = state.clone()
            operation.state_forwards(label, state)
    return {"contracts": contracts, "unchecked": unchecked}


def main(argv=None) -> int:
    import django

    django.setup()
    print(json.dumps(check(list(sys.argv[1:] if argv is None else argv), Path.cwd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
