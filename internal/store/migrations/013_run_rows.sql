-- Rows a pipeline run loaded, per table (JSON object), from its trace.
ALTER TABLE runs ADD COLUMN table_rows TEXT NOT NULL DEFAULT '';
