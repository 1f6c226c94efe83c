"""The shared training loop, schedules, checkpoints and run folders."""
