from django.apps import AppConfig


class CommonConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "common"

    def ready(self):
        from celery.signals import task_failure, task_retry

        from common.system_log import task_failure_logged, task_retry_logged

        task_failure.connect(task_failure_logged, weak=False, dispatch_uid="common.system_log.task_failure")
        task_retry.connect(task_retry_logged, weak=False, dispatch_uid="common.system_log.task_retry")
