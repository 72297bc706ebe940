"""Growth loops owned by issue 14's "Referrals and sharing": referral links and share cards."""
