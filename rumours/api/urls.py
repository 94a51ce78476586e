from django.urls import include, path
from rest_framework.routers import DefaultRouter

from rumours.api import views

router = DefaultRouter()
router.register("companies", views.CompanyViewSet, basename="company")
router.register("rumours", views.RumourViewSet, basename="rumour")

urlpatterns = [path("", include(router.urls))]
