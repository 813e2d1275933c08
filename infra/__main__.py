"""``python -m infra COMMAND STAGE``: template (no AWS), apply, destroy, outputs."""

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    if command == "template":
        from infra.template import main as run
    elif command in ("apply", "destroy", "outputs"):
        from infra.deploy import main as run
    else:
        print("usage: python -m infra {template,apply,destroy,outputs} STAGE", file=sys.stderr)
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
