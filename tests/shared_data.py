"""Where the small real data sets live: ``../shared/data`` beside the checkout (absent on a user's clone).

Tests that read them skip when the folder is missing."""
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
