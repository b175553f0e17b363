"""``python -m allocator``: the ``allocator`` command, as the console script runs it."""

from allocator.launch import main

if __name__ == "__main__":
    main()
