"""The parts of the UI catalogue, one module per feature; :mod:`minqing.i18n` merges them."""
