"""`carenet-audit`: what an auditor runs against CareNet's topics and its audit read side."""
