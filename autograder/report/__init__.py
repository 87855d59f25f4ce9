"""The class report of a batch: statistics (stats.py), plots (plots.py), one self-contained HTML page (page.py)."""
