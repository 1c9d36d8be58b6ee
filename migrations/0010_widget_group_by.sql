-- A widget may split its metric by one categorical data-dictionary column (bar, pie and table
-- tiles). The column is checked against the dictionary and the metric when the widget is saved;
-- here it only has to look like a column name. NULL means the metric's own rows.
ALTER TABLE widgets
  ADD COLUMN group_by text CHECK (group_by IS NULL OR group_by ~ '^[a-z][a-z0-9_]{0,62}$');
