"""Side effects of the workflows: replies, posting through a platform, triggers, documents."""
