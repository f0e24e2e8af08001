from django.urls import path

from limber.clinic import views

urlpatterns = [
    path("clinic/", views.home, name="clinic-home"),
    path("clinic/invites/", views.new_invite, name="clinic-new-invite"),
    path("clinic/invites/<slug:code>/", views.invite, name="clinic-invite"),
    path("clinic/join/<slug:code>/", views.join, name="clinic-join"),
    path("clinic/patients/<int:patient_id>/", views.patient, name="clinic-patient"),
    path("clinic/patients/<int:patient_id>/clear/", views.clear_screening, name="clinic-clear"),
    path("clinic/patients/<int:patient_id>/access/", views.grant, name="clinic-grant"),
    path(
        "clinic/patients/<int:patient_id>/handout.pdf", views.handout, name="clinic-patient-handout"
    ),
    path("clinic/care/", views.my_care, name="clinic-care"),
    path("clinic/care/end/", views.end_care, name="clinic-end-care"),
    path("clinic/calendar/reset/", views.reset_calendar, name="clinic-calendar-reset"),
    path("clinic/calendar/<slug:secret>.ics", views.calendar_feed, name="clinic-calendar-feed"),
    path("handout.pdf", views.handout, name="handout"),
]
