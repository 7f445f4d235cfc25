"""External event sources (S3, Azure Blob, SharePoint, Alertmanager, webhooks) on the gateway."""
