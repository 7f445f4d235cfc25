"""The platform-neutral core: workflows, activities and the contracts they speak."""

#: The task queue every threadwork worker polls.
TASK_QUEUE = "threadwork"
