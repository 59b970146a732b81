"""Routes of the "my data" space, mounted at /my-data/."""

app_name = "mydata"
urlpatterns: list = []
