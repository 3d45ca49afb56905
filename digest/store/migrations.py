"""Named, append-only schema migrations, applied whenever the store opens.

Never edit a migration that has shipped: add a new one at the end, numbered after the last
(``007_...``). They run in the order they are declared.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("digest")


@migrations(name="001_initial")
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            location TEXT NOT NULL,
            kind TEXT,
            weight REAL NOT NULL DEFAULT 1.0,
            tags TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
            guid TEXT,
            url TEXT,
            title TEXT NOT NULL,
            author TEXT,
            published_at TEXT NOT NULL,
            collected_at TEXT NOT NULL,
            updated_at TEXT,
            summary TEXT NOT NULL DEFAULT '',
            body_text TEXT NOT NULL DEFAULT '',
            body_html TEXT NOT NULL DEFAULT '',
            image_url TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            comments INTEGER,
            engagement TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            pinned INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX stories_url ON stories(url);
        CREATE INDEX stories_published ON stories(published_at);
        CREATE INDEX stories_source ON stories(source_id);

        CREATE TABLE lists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            from_email TEXT NOT NULL,
            from_name TEXT NOT NULL DEFAULT '',
            reply_to TEXT NOT NULL DEFAULT '',
            subject_prefix TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            double_opt_in INTEGER NOT NULL DEFAULT 0,
            boost TEXT NOT NULL DEFAULT '[]',
            block TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        );

        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );

        CREATE TABLE subscriptions (
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN
                ('unconfirmed', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (subscriber_id, list_id)
        );
        CREATE INDEX subscriptions_list ON subscriptions(list_id, status, subscriber_id);

        -- one-way hashes of erased addresses, so an import cannot add them back by accident
        CREATE TABLE erasures (email_hash TEXT PRIMARY KEY, erased_at TEXT NOT NULL);

        CREATE TABLE editions (
            id INTEGER PRIMARY KEY,
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            date TEXT NOT NULL,
            subject TEXT NOT NULL,
            preheader TEXT NOT NULL DEFAULT '',
            now TEXT NOT NULL,
            built_at TEXT NOT NULL,
            UNIQUE (list_id, date)
        );

        CREATE TABLE edition_stories (
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            rank INTEGER NOT NULL,
            story_id INTEGER NOT NULL REFERENCES stories(id),
            score REAL NOT NULL,
            why TEXT NOT NULL DEFAULT '{}',
            also TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (edition_id, rank)
        );
        CREATE INDEX edition_stories_story ON edition_stories(story_id);

        CREATE TABLE send_batches (
            id INTEGER PRIMARY KEY,
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('in_flight', 'sent', 'failed', 'unknown')),
            size INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id TEXT,
            error TEXT,
            pid INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX send_batches_edition ON send_batches(edition_id, status);

        CREATE TABLE sends (
            id INTEGER PRIMARY KEY,
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            subscriber_id INTEGER NOT NULL,
            email TEXT NOT NULL,
            batch_id INTEGER REFERENCES send_batches(id),
            status TEXT NOT NULL CHECK (status IN ('in_flight', 'sent', 'failed', 'unknown')),
            message_id TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (edition_id, subscriber_id)
        );
        CREATE INDEX sends_batch ON sends(batch_id);
        CREATE INDEX sends_subscriber ON sends(subscriber_id);

        CREATE TABLE locks (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            event TEXT NOT NULL,
            email TEXT,
            edition_id INTEGER,
            subscriber_id INTEGER,
            send_id INTEGER,
            occurred_at TEXT,
            received_at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_edition ON events(edition_id, event);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            exit_code INTEGER,
            summary TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


@migrations(name="002_send_unknown_retries")
def m002_send_unknown_retries(db: Database) -> None:
    # how many times a recipient whose send was unknown has been re-sent (--retry-unknown: at most once)
    db.execute("ALTER TABLE sends ADD COLUMN unknown_retries INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX IF NOT EXISTS events_subscriber ON events(subscriber_id, event)")


@migrations(name="003_rank_edition_snapshot")
def m003_rank_edition_snapshot(db: Database) -> None:
    # what each frozen story looked like when the edition was built (JSON), so later collection
    # cannot change an edition's text between preview and send; a partial index for pinned stories
    db.executescript(
        """
        ALTER TABLE edition_stories ADD COLUMN snapshot TEXT NOT NULL DEFAULT '{}';
        CREATE INDEX IF NOT EXISTS stories_pinned ON stories(pinned) WHERE pinned = 1;
        """
    )


@migrations(name="004_collect_story_identities")
def m004_collect_story_identities(db: Database) -> None:
    # further identities of a stored story: the same article seen in a second feed of the same site (matched
    # by canonical URL) keeps its own identity and content hash here, so re-collecting it adds nothing
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS story_identities (
            identity TEXT PRIMARY KEY,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
            content_hash TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS story_identities_story ON story_identities(story_id);
        ALTER TABLE sources ADD COLUMN last_warning TEXT;
        ALTER TABLE sources ADD COLUMN last_count INTEGER;
        """
    )


@migrations(name="005_send_run_ids_and_owed_index")
def m005_send_run_ids_and_owed_index(db: Database) -> None:
    # a unique id per send run on each batch and on the lock (pids repeat: every container run is pid 1);
    # an index for walking an edition's failed/unknown rows in subscriber order; a high-water mark so
    # that an edition id is never reused after a rebuild replaced the edition
    db.executescript(
        """
        ALTER TABLE send_batches ADD COLUMN run_id TEXT;
        ALTER TABLE locks ADD COLUMN run_id TEXT;
        CREATE INDEX IF NOT EXISTS sends_edition_status ON sends(edition_id, status, subscriber_id);
        INSERT INTO meta(key, value) SELECT 'edition_id_high', CAST(max(
            coalesce((SELECT max(id) FROM editions), 0), coalesce((SELECT max(edition_id) FROM events), 0),
            coalesce((SELECT max(edition_id) FROM send_batches), 0)) AS TEXT)
            WHERE 1 ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER));
        """
    )


@migrations(name="006_consent_suppressions_and_events_email")
def m006_consent_suppressions_and_events_email(db: Database) -> None:
    # addresses that complained, bounced or unsubscribed everywhere (a one-way hash, like erasures): no list
    # takes them back without new consent, even one they were never on; an index for the erasure's scrub
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS suppressions (
            email_hash TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            suppressed_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_email ON events(email);
        """
    )


@migrations(name="007_render_renditions")
def m007_render_renditions(db: Database) -> None:
    # each edition's rendered artefact (render once): reused while its stamp (templates, frozen content,
    # versions) holds, so a re-run or a later send compiles nothing; one row per edition, replaced on a new stamp
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS renditions (
            edition_id INTEGER PRIMARY KEY REFERENCES editions(id) ON DELETE CASCADE,
            stamp TEXT NOT NULL,
            subject TEXT NOT NULL,
            preheader TEXT NOT NULL,
            html TEXT NOT NULL,
            text TEXT NOT NULL,
            mjml TEXT NOT NULL,
            rendered_at TEXT NOT NULL
        );
        """
    )


@migrations(name="008_sources_display_names")
def m008_sources_display_names(db: Database) -> None:
    # what readers see of a source: the editor's title, else the feed's own title (or the page's site name),
    # kept at each collect; the site's host says which sources are one publication in several formats
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN title TEXT NOT NULL DEFAULT '';
        ALTER TABLE sources ADD COLUMN feed_title TEXT NOT NULL DEFAULT '';
        ALTER TABLE sources ADD COLUMN site TEXT NOT NULL DEFAULT '';
        """
    )


@migrations(name="009_lists_title_description_and_pauses")
def m009_lists_title_description_and_pauses(db: Database) -> None:
    # what readers see of a list on the signup page and in its mails (the name stays the short, technical key);
    # a reader's pause of one list (from their preferences page): editions dated before it ends are skipped
    db.executescript(
        """
        ALTER TABLE lists ADD COLUMN title TEXT NOT NULL DEFAULT '';
        ALTER TABLE lists ADD COLUMN description TEXT NOT NULL DEFAULT '';
        ALTER TABLE subscriptions ADD COLUMN paused_until TEXT;
        """
    )


@migrations(name="010_lists_language")
def m010_lists_language(db: Database) -> None:
    # each list's language (BCP 47): the email's lang and dir, its labels and date, and its web pages
    db.execute("ALTER TABLE lists ADD COLUMN language TEXT NOT NULL DEFAULT 'en'")


@migrations(name="011_lists_scope_rhythm_and_approval")
def m011_lists_scope_rhythm_and_approval(db: Database) -> None:
    # what a list draws from (source names, source tags: JSON arrays, empty = every source), when it goes
    # (its readers' local send time and timezone, empty = the configured ones; weekday empty = daily),
    # whether the editor approves each edition first, and whether the signup page offers it
    db.executescript(
        """
        ALTER TABLE lists ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE lists ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE lists ADD COLUMN send_at TEXT NOT NULL DEFAULT '';
        ALTER TABLE lists ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
        ALTER TABLE lists ADD COLUMN weekday TEXT NOT NULL DEFAULT '';
        ALTER TABLE lists ADD COLUMN require_approval INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE lists ADD COLUMN public INTEGER NOT NULL DEFAULT 1;
        """
    )


@migrations(name="012_edition_desk")
def m012_edition_desk(db: Database) -> None:
    # the editor's desk: every change to an edition (drop, swap, move, pin, edit...), replayed after each
    # rebuild until reset; the ranking an edition was built from (its picks and runners-up, JSON) so a change
    # can be replayed on it; each frozen story's desk marks; the editor's subject/preheader and the approval
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS edition_changes (
            id INTEGER PRIMARY KEY,
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            args TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX IF NOT EXISTS edition_changes_edition ON edition_changes(edition_id, id);
        ALTER TABLE editions ADD COLUMN ranked TEXT NOT NULL DEFAULT '';
        ALTER TABLE editions ADD COLUMN subject_edit TEXT;
        ALTER TABLE editions ADD COLUMN preheader_edit TEXT;
        ALTER TABLE editions ADD COLUMN approved_at TEXT;
        ALTER TABLE editions ADD COLUMN approved_by TEXT;
        ALTER TABLE edition_stories ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE edition_stories ADD COLUMN original TEXT NOT NULL DEFAULT '{}';
        """
    )


@migrations(name="013_sources_failing_since")
def m013_sources_failing_since(db: Database) -> None:
    # source health: when a source's current run of failures began (NULL while it works); a source already
    # failing at the upgrade gets its latest failure, the earliest one known. The index finds when each source
    # last brought a new story (is it stale?) without reading its stories.
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN failing_since TEXT;
        UPDATE sources SET failing_since = last_attempt_at WHERE consecutive_failures > 0;
        CREATE INDEX IF NOT EXISTS stories_source_collected ON stories(source_id, collected_at);
        """
    )


@migrations(name="014_track_story_clicks")
def m014_track_story_clicks(db: Database) -> None:
    # clicks on each story's tracked link (/c/TOKEN) per edition: counts only, no reader, no address
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS story_clicks (
            edition_id INTEGER NOT NULL REFERENCES editions(id),
            story_id INTEGER NOT NULL,
            clicks INTEGER NOT NULL DEFAULT 0,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            PRIMARY KEY (edition_id, story_id)
        ) WITHOUT ROWID;
        """
    )


@migrations(name="015_list_picks")
def m015_list_picks(db: Database) -> None:
    # an editor's pins and drops are each list's own; a story pinned before was pinned for every list, and stays
    # so on each. stories.pinned now says "pinned on some list" (set_pick keeps it in step; the partial index stays)
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS list_picks (
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
            pick TEXT NOT NULL CHECK (pick IN ('pin', 'drop')),
            PRIMARY KEY (list_id, story_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS list_picks_story ON list_picks(story_id);
        INSERT OR IGNORE INTO list_picks(list_id, story_id, pick)
            SELECT lists.id, stories.id, 'pin' FROM stories JOIN lists WHERE stories.pinned = 1;
        """
    )


@migrations(name="016_edition_variants")
def m016_edition_variants(db: Database) -> None:
    # one variant of a day's edition per distinct reader choice (topics, daily or weekly), frozen and rendered
    # once like the edition itself; the ledger stays keyed by the day's edition (one row per reader and day) and
    # says which variant the reader got (NULL: the whole edition)
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS variants (
            id INTEGER PRIMARY KEY,
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            topics TEXT NOT NULL DEFAULT '[]',
            frequency TEXT NOT NULL DEFAULT 'daily',
            built_at TEXT NOT NULL,
            UNIQUE (edition_id, key)
        );
        CREATE TABLE IF NOT EXISTS variant_stories (
            variant_id INTEGER NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
            rank INTEGER NOT NULL,
            story_id INTEGER NOT NULL REFERENCES stories(id),
            score REAL NOT NULL,
            why TEXT NOT NULL DEFAULT '{}',
            also TEXT NOT NULL DEFAULT '[]',
            snapshot TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (variant_id, rank)
        );
        CREATE INDEX IF NOT EXISTS variant_stories_story ON variant_stories(story_id);
        CREATE TABLE IF NOT EXISTS variant_renditions (
            variant_id INTEGER PRIMARY KEY REFERENCES variants(id) ON DELETE CASCADE,
            stamp TEXT NOT NULL,
            subject TEXT NOT NULL,
            preheader TEXT NOT NULL,
            html TEXT NOT NULL,
            text TEXT NOT NULL,
            mjml TEXT NOT NULL,
            rendered_at TEXT NOT NULL
        );
        ALTER TABLE sends ADD COLUMN variant_id INTEGER;
        """
    )


@migrations(name="017_edition_totals")
def m017_edition_totals(db: Database) -> None:
    # an edition older than [store] retention_days keeps its counts here; its per-reader rows are deleted
    # (digest.store.retention); stats adds these to whatever rows are left
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS edition_totals (
            edition_id INTEGER PRIMARY KEY REFERENCES editions(id) ON DELETE CASCADE,
            folded_at TEXT NOT NULL,
            sent INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            unknown INTEGER NOT NULL DEFAULT 0,
            delivered INTEGER NOT NULL DEFAULT 0,
            opened INTEGER NOT NULL DEFAULT 0,
            clicked INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS editions_date ON editions(date);
        """
    )
