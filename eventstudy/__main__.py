"""``python -m eventstudy``: the same command as the ``eventstudy`` console script."""

from eventstudy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
