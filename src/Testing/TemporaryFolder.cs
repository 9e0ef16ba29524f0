namespace Compose.Testing;

/// <summary>The temporary folders the test hosts create for data roots.</summary>
internal static class TemporaryFolder
{
    /// <summary>Creates a new, empty folder under the system temp path: <c>{prefix}-{guid}</c>.</summary>
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes <paramref name="path"/> and everything in it, retrying a few times; gives up quietly (a temp folder left behind is harmless).</summary>
    public static void Delete(string path)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }

                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file a process just closed (or a killed process held) may stay locked for a moment.
                Thread.Sleep(100);
            }
        }
    }
}
