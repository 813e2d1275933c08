"""The expand/contract check of a release's new migrations (infra.migration_safety, and
cms.lambda_build.check_migrations, which runs it before anything is uploaded)."""

import pytest
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from cms import lambda_build
from infra import migration_safety


@pytest.fixture(scope="module")
def state():
    """The project's schema as its migrations leave it."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state()


@pytest.mark.parametrize(
    ("operation", "broken"),
    [
        (migrations.RemoveField("article", "summary"), "drops column article.summary"),
        (migrations.DeleteModel("Article"), "drops table Article"),
        (migrations.RenameField("article", "title", "name"),
         "renames column article.title to name"),
        (migrations.RenameModel("Article", "Story"), "renames table Article to Story"),
        (migrations.AlterModelTable("article", "stories"), "renames table of article to stories"),
        (migrations.AddField("article", "rank", models.IntegerField()),
         "adds NOT NULL column article.rank with no database default"),
        # makemigrations' one-off default is used once, then dropped: old inserts fail.
        (migrations.AddField("article", "rank", models.IntegerField(default=0),
                             preserve_default=False), "adds NOT NULL column article.rank"),
        (migrations.AlterField("article", "unpublish_at", models.DateTimeField()),
         "makes article.unpublish_at NOT NULL"),
        (migrations.AlterField("article", "unpublish_at",
                               models.DateTimeField(null=True, db_column="expires")),
         "renames column article.unpublish_at"),
    ],
)  # fmt: skip
def test_contracts_are_named(state, operation, broken):
    found, readable = migration_safety.check_operation(operation, state, "sitecontent")
    assert readable
    assert found.startswith(broken)


@pytest.mark.parametrize(
    "operation",
    [
        migrations.AddField("article", "rank", models.IntegerField(null=True)),
        migrations.AddField("article", "rank", models.IntegerField(db_default=0)),
        migrations.AddField("article", "rank", models.IntegerField(default=0, db_default=0)),
        migrations.AlterField("article", "unpublish_at", models.DateTimeField(null=True)),
        migrations.AddIndex("article", models.Index(fields=["title"], name="article_title")),
        migrations.CreateModel("Note", [("id", models.AutoField(primary_key=True))]),
    ],
)
def test_expansions_pass(state, operation):
    assert migration_safety.check_operation(operation, state, "sitecontent") == (None, True)


def test_code_it_cannot_read_is_listed_for_a_person():
    operation = migrations.RunSQL("DROP TABLE sitecontent_article")
    assert migration_safety.check_operation(operation, None, "sitecontent") == (None, False)


def test_the_projects_own_migration_files_are_read(settings):
    paths = ["sitecontent/migrations/0001_initial.py", "cms/migrations/0001_initial.py"]
    found = migration_safety.check(paths, lambda_build.ROOT)
    assert found["contracts"] == []
    assert [u for u in found["unchecked"] if u["operation"] == "not a migration Django loads"] == []


def test_the_new_files_are_those_the_serving_versions_commit_lacks():
    import subprocess

    assert lambda_build.new_migrations(lambda_build.head_commit()) == []
    newest = "sitecontent/migrations/0010_image_dimensions_once.py"
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "-1", "--", newest],
        cwd=lambda_build.ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert newest in lambda_build.new_migrations(f"{added}^")
    assert newest not in lambda_build.new_migrations(added)
    with pytest.raises(lambda_build.BuildError, match="git fetch origin 0000000"):
        lambda_build.new_migrations("0" * 40)


@pytest.fixture
def new_migration(monkeypatch):
    """One new migration that drops a column, checked in-process (as in the build)."""
    monkeypatch.setattr(lambda_build, "new_migrations", lambda since: ["x/migrations/0002_y.py"])
    found = {"contracts": [{"migration": "sitecontent.0099_drop", "operation": "drops column "
                            "article.summary"}], "unchecked": []}  # fmt: skip
    monkeypatch.setattr(lambda_build, "safety_check", lambda paths: found)
    monkeypatch.delenv(lambda_build.ALLOW_DESTRUCTIVE, raising=False)


LIVE = {"function": True, "live": "4", "commit": "abc123abc123"}


def test_a_contract_stops_the_deploy_and_names_the_way_through(new_migration):
    with pytest.raises(lambda_build.BuildError) as stopped:
        lambda_build.check_migrations("staging", LIVE)
    message = str(stopped.value)
    assert "sitecontent.0099_drop drops column article.summary" in message
    assert "Expand first and contract in a later release" in message
    assert "ALLOW_DESTRUCTIVE_MIGRATIONS=sitecontent.0099_drop" in message


def test_the_operator_can_allow_a_named_contract(new_migration, monkeypatch, capsys):
    monkeypatch.setenv(lambda_build.ALLOW_DESTRUCTIVE, "sitecontent.0099_drop")
    lambda_build.check_migrations("staging", LIVE)
    assert (
        "allowed by ALLOW_DESTRUCTIVE_MIGRATIONS: sitecontent.0099_drop" in capsys.readouterr().out
    )
    monkeypatch.setenv(lambda_build.ALLOW_DESTRUCTIVE, "sitecontent.0100_other")
    with pytest.raises(lambda_build.BuildError):
        lambda_build.check_migrations("staging", LIVE)


def test_nothing_serving_means_nothing_to_check(new_migration):
    lambda_build.check_migrations("staging", {"function": False, "live": None, "commit": None})


def test_a_live_version_without_a_recorded_commit_is_not_guessed(new_migration):
    with pytest.raises(lambda_build.BuildError, match="records no commit"):
        lambda_build.check_migrations("staging", {**LIVE, "commit": None})
