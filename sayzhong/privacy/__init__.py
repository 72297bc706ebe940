"""Privacy: cookie consent, data export, account erasure, data-subject requests, retention."""
