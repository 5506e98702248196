//! Bounded reading of uploaded spreadsheets: limits on the container, the sheet and the time.
