"""`flask --app engagement counts verify [--fix]`: the articles' counters against a recount."""

import click
from flask.cli import AppGroup

from engagement.articles.counters import counter_differences, recount
from engagement.extensions import db

counts = AppGroup("counts", help="The comment and share counters kept on each article.")


@counts.command("verify")
@click.option("--fix", is_flag=True, help="Set each counter that differs to its recount.")
def verify(fix: bool) -> None:
    """Recount every article's comments and shares and print each counter that differs.

    Exits with status 1 when one differs and --fix is not given, for cron and monitoring."""
    differences = counter_differences()
    for found in differences:
        click.echo(
            f"{found.article_id}: comment_count {found.stored_comments} stored, "
            f"{found.counted_comments} counted; top_level_count {found.stored_top_level} "
            f"stored, {found.counted_top_level} counted; share_count {found.stored_shares} stored, "
            f"{found.counted_shares} counted"
        )
    if not differences:
        click.echo("Every article's counters agree with a recount.")
        return
    if not fix:
        click.echo(f"{len(differences)} articles differ; --fix repairs them.")
        raise SystemExit(1)
    for found in differences:
        recount(found.article_id)
    db.session.commit()
    click.echo(f"Repaired the counters of {len(differences)} articles.")
