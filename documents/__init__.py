"""Documents: the consent agreement (chat summary and sealed PDF) and the assessment summary."""
