"""``python -m infra COMMAND STAGE``: template (no AWS), apply, destroy, outputs; rollback
and release (blue/green, infra.release); ci-template and ci-apply (the account's CI
deploy stack, infra.ci); branch-stage REF (the stage of a pull request or git branch)."""

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    if command == "template":
        from infra.template import main as run
    elif command in ("apply", "destroy", "outputs"):
        from infra.deploy import main as run
    elif command in ("release", "rollback"):
        from infra.release import main as run
    elif command in ("ci-template", "ci-apply"):
        from infra.ci import main as run
    elif command == "branch-stage":
        from infra.config import main as run
    else:
        print(
            "usage: python -m infra {template,apply,destroy,outputs,release,rollback,"
            "ci-template,ci-apply,branch-stage} [STAGE]",
            file=sys.stderr,
        )
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
