"""The Train tab: start CameraCLIP trainings as background jobs, watch, cancel, resume, use."""
