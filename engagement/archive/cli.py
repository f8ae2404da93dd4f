"""`flask --app engagement import wordpress|disqus|json FILE` and `export FILE.json`.

An import reads the whole file first (nothing is written while reading), then writes it in
one transaction: a file that fails half-way, or a dry run, leaves the database as it was."""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from engagement.archive import services
from engagement.archive.disqus import read_disqus
from engagement.archive.export import NotAnExport, own_origin, read_export, write_export
from engagement.archive.staging import Staging
from engagement.archive.summary import Summary
from engagement.archive.wordpress import ARTICLE_ID_RULES, read_wordpress
from engagement.archive.xml import UnreadableFile
from engagement.articles.models import Article
from engagement.clock import now
from engagement.extensions import db
from engagement.http import article_id_from

HELD = {"wordpress": "comments and no post closed to comments",
        "disqus": "threads and no posts"}

import_group = AppGroup("import", help="Bring in comments from WordPress, Disqus or an export.")

dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Read and check everything, report, write nothing.")
map_option = click.option(
    "--map", "map_file", type=click.File("r", encoding="utf-8-sig"),
    help="CSV of source key (post id, slug, link, path or thread id) and article id.")


@import_group.command("wordpress")
@click.argument("file", type=click.File("rb"))
@click.option("--article-id", "rule", type=click.Choice(ARTICLE_ID_RULES), default="slug",
              show_default=True, help="What a post's article id is: the widget's data-article.")
@map_option
@click.option("--timezone", default="UTC", show_default=True,
              help="The site's time zone (e.g. Europe/Paris), for dates without a GMT time.")
@dry_run_option
def import_wordpress(file, rule, map_file, timezone, dry_run):
    """Import a WordPress export (WXR 1.0 to 1.2): Tools > Export > All content."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{timezone!r} is not a time zone name.",
                                 param_hint="--timezone") from None
    _run("wordpress", file, map_file, dry_run, lambda staging, summary, on_read: read_wordpress(
        file, staging, summary, rule=rule, timezone=zone, on_read=on_read))


@import_group.command("disqus")
@click.argument("file", type=click.File("rb"))
@map_option
@dry_run_option
def import_disqus(file, map_file, dry_run):
    """Import a Disqus export (the XML file Disqus mails from Moderation > Export)."""
    _run("disqus", file, map_file, dry_run, lambda staging, summary, on_read: read_disqus(
        file, staging, summary, on_read=on_read))


@import_group.command("json")
@click.argument("file", type=click.File("rb"))
@dry_run_option
def import_json(file, dry_run):
    """Import this service's own export (flask --app engagement export)."""
    summary = Summary()
    with _one_transaction(dry_run):
        try:
            with progress("Writing", None) as advance:
                read_export(file, summary, _settings("engagement", {}), advance)
        except NotAnExport as error:
            raise click.ClickException(f"{file.name}: {error}. Nothing was written.") from None
    for line in summary.lines(dry_run=dry_run):
        click.echo(line)


@click.command("export")
@with_appcontext
@click.argument("file", type=click.File("w", encoding="utf-8", atomic=True))
@click.option("--article", "article", help="Only this article (its id).")
def export_command(file, article):
    """Write every article and comment, with share counts, as JSON (`import json` reads it)."""
    article_id = None
    if article is not None:
        article_id = article_id_from(article)
        if article_id is None:
            raise click.BadParameter(f"{article!r} is not an article id.", param_hint="--article")
        if db.session.get(Article, article_id) is None:  # before the file is opened
            raise click.BadParameter(f"there is no article {article!r}.", param_hint="--article")
    origin = own_origin(create=True)
    db.session.commit()  # it names this database from its first export on, file or not
    written = write_export(file, article_id=article_id, now=now(), origin=origin)
    db.session.rollback()
    click.echo(f"Wrote {written} articles to {file.name}.")


@contextmanager
def _one_transaction(dry_run: bool):
    """Commit once at the end; roll back a dry run, and anything that fails half-way."""
    try:
        yield
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _settings(source: str, article_map: dict[str, str]) -> services.ImportSettings:
    config, moment = current_app.config, now()
    return services.ImportSettings(
        source=source, max_depth=config["MAX_REPLY_DEPTH"],
        keep_addresses_after=services.keep_addresses_after(moment, config["IP_RETENTION_DAYS"]),
        article_map=article_map, now=moment, share_networks=tuple(config["SHARE_NETWORKS"]),
    )


def _run(source: str, file, map_file, dry_run: bool, read: Callable) -> None:
    settings = _settings(source, _read_map(map_file) if map_file else {})
    summary, started = Summary(), time.perf_counter()
    with Staging() as staging:
        try:
            with progress("Reading", _size(file)) as advance:
                read(staging, summary, advance)
        except UnreadableFile as error:
            raise click.ClickException(f"{file.name}: {error} Nothing was written.") from None
        if not summary.source_articles and not summary.source_comments:
            click.echo(f"Warning: {file.name} holds no {HELD[source]}: nothing to import.",
                       err=True)
        staging.finish()
        with _one_transaction(dry_run), progress(
                "Writing", staging.comment_count()) as advance:
            services.write_staged(staging, summary, settings, advance)
    for line in summary.lines(dry_run=dry_run):
        click.echo(line)
    click.echo(f"Took {time.perf_counter() - started:.1f} s.")


def _read_map(map_file) -> dict[str, str]:
    """Source key -> article id, from a two-column CSV (a `source,article_id` header may lead)."""
    mapping = {}
    for number, row in enumerate(csv.reader(map_file), start=1):
        if not row or (number == 1 and [cell.strip().lower() for cell in row[:2]]
                       == ["source", "article_id"]):
            continue
        if len(row) < 2:
            raise click.ClickException(f"{map_file.name}, line {number}: give two columns, the "
                                       f"source key and the article id.")
        article_id = article_id_from(row[1].strip())
        if article_id is None:
            raise click.ClickException(f"{map_file.name}, line {number}: {row[1]!r} is not an "
                                       f"article id (1-200 of A-Z a-z 0-9 - . _ ~ and %XX).")
        mapping[row[0].strip()] = article_id
    return mapping


def _size(file) -> int | None:
    try:
        return os.fstat(file.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


@contextmanager
def progress(label: str, total: int | None):
    """A progress bar on a terminal (standard error: standard output holds the summary alone,
    for a script to read); elsewhere (a log, a pipe, cron's mail) nothing, as the contract
    says: ten lines of percentages there only hid the summary's warnings."""
    if sys.stderr.isatty() and total:
        with click.progressbar(length=total, label=label, show_pos=False,
                               file=sys.stderr) as bar:
            yield bar.update
        return
    yield lambda _amount: None
