"""`engagement jobs run [NAME ...] [--watch]`: the scheduled jobs, from cron or from the
scheduler process of the compose stack. Each job commits on its own: one that fails is
reported and the others still run."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from engagement.clock import now
from engagement.extensions import db
from engagement.jobs.services import JOBS, JOBS_BY_NAME, Job

jobs = AppGroup("jobs", help="Housekeeping: retention and purges, run on a schedule.")
log = logging.getLogger("engagement.jobs")


@jobs.command("list")
def list_jobs() -> None:
    """Name every job and what it does."""
    for job in JOBS:
        click.echo(f"{job.name}\t{job.help}")


@jobs.command("run")
@click.argument("names", nargs=-1, type=click.Choice(sorted(JOBS_BY_NAME)))
@click.option("--watch", is_flag=True, help="Keep running them every --every seconds.")
@click.option("--every", type=click.IntRange(min=60), default=3600, show_default=True,
              help="Seconds between two runs with --watch.")
def run(names: tuple[str, ...], watch: bool, every: int) -> None:
    """Run the jobs (all of them unless named) once, or on a schedule with --watch."""
    chosen = [JOBS_BY_NAME[name] for name in names] or JOBS
    while True:
        failed = [job.name for job in chosen if not run_job(job)]
        if not watch:
            if failed:
                raise click.ClickException(f"failed: {', '.join(failed)}")
            return
        time.sleep(every)


def run_job(job: Job) -> bool:
    try:
        count = job.run(current_app.config, now())
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.error("%s failed: %s", job.name, error.__class__.__name__)
        click.echo(f"{job.name}: failed ({error.__class__.__name__})", err=True)
        return False
    done = job.done.format(n=count)
    log.info("%s: %s", job.name, done)
    click.echo(f"{job.name}: {done}")
    return True
