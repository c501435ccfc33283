"""Stage 4 and 5: a composed document becomes HTML (theme, templates) and PDF parts (WeasyPrint).

The only subpackage that imports weasyprint; every file a part reads goes through fetcher.py.
"""
