"""``cinestudio jobs list|submit|show|cancel|resume|logs|run``: background jobs from the command line.

    cinestudio -w WS jobs submit clip-train --set data=media/demo-sim --set epochs=5
    cinestudio -w WS jobs run                  # drain the queue in the foreground
    cinestudio -w WS jobs list
    cinestudio -w WS jobs logs 3 --follow
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from cinestudio.cli.app import STATE, JsonOption, app, emit_json, user_errors
from cinestudio.errors import UserInputError
from cinestudio.workspace import DB_FILENAME, default_workspace_dir

jobs_app = typer.Typer(help="Background jobs (training, rendering): queue, run, follow, cancel, resume.",
                       no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

STATES_HELP = "queued, running, succeeded, failed, cancelled or interrupted (repeatable)."


def _open() -> Any:
    from cinestudio.store import open_workspace

    root = Path(STATE.workspace).expanduser() if STATE.workspace else default_workspace_dir()
    if not (root / DB_FILENAME).is_file():
        raise UserInputError(root, "not a CineStudio workspace (create one with "
                                   "`cinestudio --workspace DIR workspace init`)")
    return open_workspace(root)


def _bar(done: int, total: int | None, width: int = 12) -> str:
    if not total:
        return " " * width
    filled = int(round(width * min(1.0, done / total)))
    return "█" * filled + "·" * (width - filled)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _config(config_file: Path | None, settings: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if config_file is not None:
        try:
            text = sys.stdin.read() if str(config_file) == "-" else config_file.read_text(encoding="utf-8")
            config = json.loads(text)
        except FileNotFoundError:
            raise UserInputError(config_file, "no such file") from None
        except ValueError as exc:
            raise UserInputError(config_file, f"not valid JSON: {exc}") from None
        if not isinstance(config, dict):
            raise UserInputError(config_file, "must hold a JSON object")
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(item, "expected KEY=VALUE")
        config[key.strip()] = _parse_value(value)
    return config


@jobs_app.command("list")
@user_errors
def list_cmd(
    state: list[str] = typer.Option(None, "--state", help=STATES_HELP),
    kind: str | None = typer.Option(None, "--kind", help="Only jobs of this kind."),
    limit: int = typer.Option(50, "--limit", min=1, help="Newest N jobs."),
    as_json: bool = JsonOption,
) -> None:
    """The newest jobs with their state, progress and ETA."""
    from cinestudio.jobs import service
    from cinestudio.jobs.protocol import format_duration

    with _open() as store:
        service.recover(store)
        jobs = store.jobs.find(states=state or None, kind=kind, limit=limit, newest_first=True)
        rows = [service.job_dict(store, j) for j in jobs]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("no jobs")
        return
    typer.echo(f"{'id':>4}  {'kind':<12} {'state':<11} {'progress':<22} {'ETA':>7}  message")
    for r in rows:
        p = r["progress"]
        prog = f"{_bar(p['done'], p['total'])} {p['done']}/{p['total']}" if p["total"] else ""
        eta = format_duration(r["eta_s"]) if r["eta_s"] is not None else ""
        message = r["error"] if r["state"] == "failed" else (r["message"] or "")
        typer.echo(f"{r['id']:>4}  {r['kind']:<12} {r['state']:<11} {prog:<22} {eta:>7}  {message}")


@jobs_app.command("submit")
@user_errors
def submit_cmd(
    kind: str = typer.Argument(..., help="Job kind (e.g. clip-train)."),
    config_file: Path | None = typer.Option(None, "--config", help="JSON file with the job's configuration (- for stdin)."),
    settings: list[str] = typer.Option(None, "--set", help="KEY=VALUE (JSON values allowed), repeatable; "
                                                           "overrides --config."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    as_json: bool = JsonOption,
) -> None:
    """Validate a job's configuration and queue it (`jobs run`, or an open GUI, runs it)."""
    from cinestudio.jobs import service

    config = _config(config_file, settings or [])
    with _open() as store:
        job = service.submit(store, kind, config, device=device)
        row = service.job_dict(store, job)
    if as_json:
        emit_json(row)
    else:
        typer.echo(f"queued job {job.id} ({kind}, device {job.device}); run folder {row['run_dir']}")


@jobs_app.command("show")
@user_errors
def show_cmd(job_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Everything about one job: state, progress, checkpoint, error, result, run folder."""
    from cinestudio.jobs import service
    from cinestudio.jobs.protocol import format_duration

    with _open() as store:
        service.recover(store)
        job = store.jobs.get(job_id)
        row = service.job_dict(store, job)
        artifacts = [m for m in service.job_events(store, job) if m["type"] == "artifact"]
    row["artifacts"] = {m["name"]: m["path"] for m in artifacts}
    if as_json:
        emit_json(row)
        return
    p = row["progress"]
    typer.echo(f"job {row['id']}  {row['kind']}  {row['state']}" + ("  (cancel requested)" if row["cancel_requested"] else ""))
    typer.echo(f"  progress    {p['done']}/{p['total'] if p['total'] is not None else '?'}  {row['message'] or ''}")
    if row["eta_s"] is not None:
        typer.echo(f"  ETA         {format_duration(row['eta_s'])}")
    typer.echo(f"  device      {row['device']}   attempts {row['attempts']}   checkpoint step {row['checkpoint_step']}")
    typer.echo(f"  run folder  {row['run_dir']}")
    typer.echo(f"  created     {row['created_at']}   started {row['started_at']}   finished {row['finished_at']}")
    if row["error"]:
        typer.echo(f"  error       {row['error']}")
    typer.echo("  config      " + json.dumps(row["config"], sort_keys=True))
    if row["result"]:
        typer.echo("  result      " + json.dumps(row["result"], sort_keys=True, default=str)[:2000])
    for name, path in row["artifacts"].items():
        typer.echo(f"  {name:<11} {path}")


@jobs_app.command("cancel")
@user_errors
def cancel_cmd(
    job_id: int = typer.Argument(...),
    wait: bool = typer.Option(False, "--wait", help="Wait until a running job has stopped."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds --wait waits at most."),
    as_json: bool = JsonOption,
) -> None:
    """Cancel a job: a queued one at once; a running one saves a checkpoint and stops (resumable)."""
    from cinestudio.jobs import service

    with _open() as store:
        job = service.cancel(store, job_id)
        deadline = time.monotonic() + timeout
        while wait and job.state == "running" and time.monotonic() < deadline:
            time.sleep(0.25)
            job = store.jobs.get(job_id)
        row = service.job_dict(store, job)
    if as_json:
        emit_json(row)
    elif job.state == "running":
        typer.echo(f"job {job_id}: cancel requested; the worker stops after saving a checkpoint")
    else:
        typer.echo(f"job {job_id}: {job.state}" + (f" ({job.message})" if job.message else ""))


@jobs_app.command("resume")
@user_errors
def resume_cmd(job_id: int = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Queue a cancelled, interrupted or failed job again; it continues from its last checkpoint."""
    from cinestudio.jobs import service

    with _open() as store:
        service.recover(store)
        job = service.resume(store, job_id)
        row = service.job_dict(store, job)
    if as_json:
        emit_json(row)
    else:
        step = f" from step {job.checkpoint_step}" if job.checkpoint_step else ""
        typer.echo(f"job {job_id} queued again; it continues{step or ' from the start'} when a runner takes it")


@jobs_app.command("logs")
@user_errors
def logs_cmd(
    job_id: int = typer.Argument(...),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the job ends."),
    stderr: bool = typer.Option(False, "--stderr", help="Print the worker's stderr log (worker.log) instead."),
    as_json: bool = JsonOption,
) -> None:
    """The job's messages (events.jsonl in its run folder): progress, metrics, logs, artifacts."""
    from cinestudio.jobs import service
    from cinestudio.jobs.protocol import EventTail, format_event

    with _open() as store:
        job = store.jobs.get(job_id)
        if stderr:
            typer.echo(service.stderr_tail(store, job, 10_000))
            return
        path = service.events_path(store, job)
        if path is None:
            raise UserInputError(f"job {job_id}", "has no run folder yet")
        tail = EventTail(path)
        while True:
            for msg in tail.read():
                typer.echo(json.dumps(msg, ensure_ascii=False) if as_json else format_event(msg))
            if not tail.at_end:
                continue
            if not follow or store.jobs.get(job_id).state not in service.ACTIVE_STATES:
                break
            time.sleep(0.5)
        for msg in tail.read():
            typer.echo(json.dumps(msg, ensure_ascii=False) if as_json else format_event(msg))


@jobs_app.command("run")
@user_errors
def run_cmd(
    cpu_jobs: int = typer.Option(1, "--cpu-jobs", min=0, help="CPU jobs at a time."),
    gpu_jobs: int = typer.Option(1, "--gpu-jobs", min=0, help="GPU jobs at a time."),
    grace: float = typer.Option(60.0, "--grace", help="Seconds a cancelled job may take to stop."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads per job (default: (cores - 1) / CPU jobs)."),
    watch: bool = typer.Option(False, "--watch", help="Keep running and wait for new jobs (Ctrl-C stops)."),
    as_json: bool = JsonOption,
) -> None:
    """Run queued jobs in the foreground until the queue is empty (for servers and scripts).

    Ctrl-C stops the running jobs after they save a checkpoint (they end interrupted; `resume`).
    """
    from cinestudio.jobs.protocol import encode, format_event
    from cinestudio.jobs.runner import QueueRunner

    last_progress: dict[int, float] = {}

    def show(msg: dict[str, Any]) -> None:
        if as_json:
            sys.stdout.write(encode(msg) + "\n")
            sys.stdout.flush()
            return
        if msg["type"] == "metric":
            return
        if msg["type"] == "progress":   # people get one progress line per job every few seconds
            now = time.monotonic()
            if now - last_progress.get(msg["job"], 0.0) < 5.0 and msg.get("done") != msg.get("total"):
                return
            last_progress[msg["job"]] = now
        typer.echo(format_event(msg), err=True)

    stop = {"now": False}
    with _open() as store:
        runner = QueueRunner(store, cpu_slots=cpu_jobs, gpu_slots=gpu_jobs, grace_s=grace, threads=threads)
        for job in runner.start():
            typer.echo(f"job {job.id}: its worker was gone; marked interrupted (resume it with "
                       f"`cinestudio jobs resume {job.id}`)", err=True)
        try:
            runner.run(show, watch=watch, should_stop=lambda: stop["now"])
        except KeyboardInterrupt:
            typer.echo("stopping: running jobs save a checkpoint and end interrupted", err=True)
            for msg in runner.shutdown():
                show(msg)
            raise typer.Exit(130) from None
        counts = store.jobs.count_by_state()
    if not as_json:
        typer.echo("queue drained: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n), err=True)
