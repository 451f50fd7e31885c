"""jobconsole's machinery: scheduling, running, recording. Your jobs live beside it,
in ``jobs/``; nothing here is a job, so the register form never suggests it."""
