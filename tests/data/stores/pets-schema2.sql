BEGIN TRANSACTION;
CREATE TABLE annotations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT NOT NULL UNIQUE,
    item       TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    annotator  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT,
    confidence REAL,
    created    TEXT NOT NULL,
    target     TEXT
);
INSERT INTO "annotations" VALUES(1,'u-a','a.jpg','pets','ana','human','"cat"',NULL,'2026-12-06T20:29:13.723461',NULL);
INSERT INTO "annotations" VALUES(2,'u-c','c.jpg','pets','ana','skip',NULL,NULL,'2026-12-06T20:29:13.735398',NULL);
INSERT INTO "annotations" VALUES(3,'u-b','b.jpg','pets','ana','human','"dog"',NULL,'2026-12-06T20:29:13.745602',NULL);
INSERT INTO "annotations" VALUES(4,'u-r','b.jpg','pets','ana','retract',NULL,NULL,'2026-12-06T20:29:13.753680','u-b');
CREATE TABLE claims (
    attribute TEXT NOT NULL, item TEXT NOT NULL, session TEXT NOT NULL, annotator TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (attribute, item, session)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','2');
INSERT INTO "meta" VALUES('task:pets','{"labels": ["cat", "dog"], "type": "groundtruth/image-classification"}');
INSERT INTO "meta" VALUES('answers_per_item:pets','1');
CREATE TABLE proposals (
    attribute TEXT NOT NULL, item TEXT NOT NULL, value TEXT NOT NULL, confidence REAL NOT NULL,
    PRIMARY KEY (attribute, item)
);
CREATE TABLE queue (
    attribute TEXT NOT NULL, rank INTEGER NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (attribute, rank)
);
CREATE TABLE rounds (
    attribute TEXT NOT NULL, round INTEGER NOT NULL, report TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (attribute, round)
);
CREATE INDEX annotations_attribute ON annotations (attribute, seq);
CREATE INDEX annotations_item ON annotations (attribute, item);
CREATE INDEX annotations_target ON annotations (target) WHERE target IS NOT NULL;
CREATE INDEX claims_expires ON claims (attribute, expires);
CREATE TRIGGER annotations_no_update BEFORE UPDATE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER annotations_no_delete BEFORE DELETE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER annotations_no_replace BEFORE INSERT ON annotations
WHEN EXISTS (SELECT 1 FROM annotations WHERE uid = NEW.uid)
    OR EXISTS (SELECT 1 FROM annotations WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('annotations',4);
COMMIT;
PRAGMA application_id = 1851943985;
PRAGMA user_version = 2;
