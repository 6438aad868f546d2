"""Notifications' aggregates: each patient's circle, each notice, each send, each address."""

from carenet_notifications.domain.delivery import Delivery, DeliveryStatus
from carenet_notifications.domain.notification import Notification
from carenet_notifications.domain.patient import PatientCircle
from carenet_notifications.domain.subscriptions import Subscription, Subscriptions

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "Notification",
    "PatientCircle",
    "Subscription",
    "Subscriptions",
]
