"""Reviewers' and applicants' work: tasks, 退回/撤回/转办/催办, delegation, attachments, notifications."""
