"""Text inside fields: Markdown to HTML, LaTeX checks and media files, shared by validation
and every renderer."""
