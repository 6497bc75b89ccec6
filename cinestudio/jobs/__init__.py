"""Background jobs: training and rendering run in worker subprocesses, never in the GUI process.

- `kinds`       job kinds by name: validation, the use-case adapter (by dotted name), device class
- `clip_train`  the ``clip-train`` kind (spec); `clip_train_run` its worker side (imports torch)
- `service`     submit / cancel / resume / recover / describe, for the CLI and the GUI
- `worker`      ``python -m cinestudio.jobs.worker JOB_ID``: runs one job, speaks the protocol
- `protocol`    the JSON-lines messages (started, progress, metric, log, artifact, done, error)
- `runner`      the queue runner: worker subprocesses, one GPU job at a time, N CPU jobs
- `procs`       liveness of workers, GPU detection

States (persisted in the workspace database, `cinestudio.store.jobs`): queued → running →
succeeded | failed | cancelled | interrupted; `resume` queues a cancelled, interrupted or failed
job again and the worker continues from the run folder's last checkpoint.

Importing this package is cheap and Qt-free; nothing here imports torch except `clip_train_run`,
which only the worker loads.
"""
