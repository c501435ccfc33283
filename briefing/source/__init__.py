"""Stage 1 to 3: content on disk becomes a composed document (load, model, Markdown, checks).

Never imports WeasyPrint or pypdf: this is all `briefing check` needs.
"""
