"""Container readers: they explode containers into child blobs with locators."""
