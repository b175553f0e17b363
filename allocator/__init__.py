"""allocator: allocates children's social-care cases to social workers."""
