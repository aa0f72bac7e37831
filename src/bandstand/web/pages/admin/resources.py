"""The catalogue's kinds of items as the console edits them (fields as their APIs take them)."""

from __future__ import annotations

from bandstand.web.pages.admin.editing import Field, Resource

DIFFICULTIES = ("BEGINNER", "INTERMEDIATE", "ADVANCED")

SONGS = Resource(
    slug="songs",
    api="/api/v1/songs",
    singular="song",
    plural="Songs",
    fields=(
        Field("title", "Title", required=True),
        Field("artist", "Artist", required=True),
        Field("genre", "Genre", required=True),
        Field("duration", "Duration (seconds)", "int", required=True),
        Field("file_url", "Audio file URL", required=True),
        Field("cover_image_url", "Cover image URL"),
        Field("release_date", "Release date", "date"),
        Field("description", "Description", "textarea"),
        Field("lyrics", "Lyrics", "textarea"),
    ),
    columns=(("title", "Title"), ("artist", "Artist"), ("genre", "Genre"), ("like_count", "Likes")),
    public_url="/music/songs/{id}",
)
ALBUMS = Resource(
    slug="albums",
    api="/api/v1/albums",
    singular="album",
    plural="Albums",
    fields=(
        Field("title", "Title", required=True),
        Field("artist", "Artist", required=True),
        Field("genre", "Genre"),
        Field("cover_image_url", "Cover image URL"),
        Field("description", "Description", "textarea"),
    ),
    columns=(("title", "Title"), ("artist", "Artist"), ("genre", "Genre")),
)
PICTURES = Resource(
    slug="pictures",
    api="/api/v1/pictures",
    singular="picture",
    plural="Pictures",
    fields=(
        Field("pic_url", "Picture URL", required=True),
        Field("event_city", "City"),
        Field("event_state", "State or region"),
        Field("event_country", "Country"),
        Field("event_date", "Day of the event", "date"),
    ),
    columns=(
        ("pic_url", "Picture"),
        ("event_city", "City"),
        ("event_country", "Country"),
        ("event_date", "Day"),
    ),
    search=None,
)
CONCERTS = Resource(
    slug="concerts",
    api="/api/v1/concerts",
    singular="concert",
    plural="Concerts",
    fields=(
        Field("concert_name", "Name", required=True),
        Field("city", "City", required=True),
        Field("venue", "Venue", blank=""),
        Field("date", "Starts at (UTC)", "datetime", required=True),
        Field("duration", "Duration (minutes)", "int", required=True),
        Field("picture_id", "Picture id", "int"),
        Field("description", "Description", "textarea", blank=""),
    ),
    columns=(
        ("concert_name", "Name"),
        ("city", "City"),
        ("date", "Starts"),
        ("attending_count", "Attending"),
    ),
    search="city",
    update_method="PATCH",
    list_query={"ordering": "-date"},
    public_url="/concerts/{id}",
)
MOVIES = Resource(
    slug="movies",
    api="/api/v1/movies",
    singular="movie",
    plural="Movies",
    fields=(
        Field("title", "Title", required=True),
        Field("release_year", "Release year", "int"),
        Field("duration_minutes", "Duration (minutes)", "int"),
        Field("genres", "Genres", "list", blank=[], hint="Separated by commas."),
        Field("description", "Description", "textarea", required=True),
    ),
    columns=(("title", "Title"), ("release_year", "Year"), ("genres", "Genres")),
    search="title",
    update_method="PATCH",
    public_url="/movies/{id}",
)
INSTRUMENTS = Resource(
    slug="instruments",
    api="/api/v1/instruments",
    singular="instrument",
    plural="Instruments",
    fields=(
        Field("name", "Name", required=True),
        Field("price", "Price", "decimal", hint="For example 349.00"),
        Field("link", "Offer link", "url", required=True),
        Field("website", "Website", required=True),
        Field("category", "Category"),
        Field("location", "Location"),
        Field("image", "Image URL"),
        Field("publish", "Published on", "date"),
        Field("expiration", "Expires on", "date"),
    ),
    columns=(
        ("name", "Name"),
        ("price", "Price"),
        ("category", "Category"),
        ("website", "Website"),
    ),
    update_method="PATCH",
    list_query={"include_expired": True},
    public_url="/instruments/{id}",
)
COURSES = Resource(
    slug="courses",
    api="/api/v1/courses",
    singular="course",
    plural="Courses",
    fields=(
        Field("title", "Title", required=True),
        Field("difficulty_level", "Difficulty", "select", choices=DIFFICULTIES, required=True),
        Field("duration_hours", "Duration (hours)", "int"),
        Field("price", "Price", "decimal"),
        Field("is_active", "Active (shown to learners)", "checkbox"),
        Field("description", "Description", "textarea", blank=""),
    ),
    columns=(
        ("title", "Title"),
        ("instructor", "Instructor"),
        ("difficulty_level", "Difficulty"),
        ("enrollment_count", "Enrolled"),
    ),
    update_method="PATCH",
    public_url="/courses/{id}",
)
LESSON_FIELDS = (
    Field("title", "Title", required=True),
    Field("order", "Position", "int", required=True),
    Field("duration_minutes", "Duration (minutes)", "int"),
    Field("video_url", "Video URL", blank=""),
    Field("is_published", "Published", "checkbox"),
    Field("content", "Content", "textarea", blank=""),
)

CATALOGUE = (SONGS, ALBUMS, PICTURES, CONCERTS, MOVIES, INSTRUMENTS, COURSES)
