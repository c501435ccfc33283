"""Jobs: a document or a pack taken through the stages, alone or in a batch on workers."""
