"""The book's own tooling, beside the book in the repository and not in the installed library
(``thesis_lib``): what only serves building, translating or teaching from the book.

* :mod:`book_tools.toc`: the book's pages and chapter notebooks, read from ``_toc.yml``;
* :mod:`book_tools.classroom`: the classroom edition (``thesis-lib classroom OUT``, run in the
  repository; the command finds this package there);
* :mod:`book_tools.colab`: the Colab install cell at the top of every chapter.

The scripts in ``scripts/`` (the book build, the notebooks, the translation, the PDF) use it too.
"""
