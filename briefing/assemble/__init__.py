"""Stage 6: rendered parts become one PDF (pages, links, outline, labels, metadata, tags).

The pypdf helper layer (pdfio.py) lives here; supplied PDFs are cleaned here (supplied.py).
"""
