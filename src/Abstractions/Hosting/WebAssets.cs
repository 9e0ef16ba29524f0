using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Compose.Hosting;

/// <summary>Serves one plugin's static web assets from the host's web root file provider.</summary>
internal static class WebAssets
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static RequestDelegate Serve(IFileProvider webRoot, string basePath) => async context =>
    {
        var path = context.Request.RouteValues["path"] as string ?? string.Empty;
        var file = IsPlainRelativePath(path) ? webRoot.GetFileInfo(basePath + "/" + path) : null;
        if (file is not { Exists: true, IsDirectory: false })
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = ContentTypes.TryGetContentType(file.Name, out var contentType) ? contentType : "application/octet-stream";
        context.Response.ContentLength = file.Length;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await context.Response.SendFileAsync(file, context.RequestAborted).ConfigureAwait(false);
    };

    /// <summary>Only forward-slash relative paths of ordinary segments: no "..", ".", empty segments, backslashes or colons.</summary>
    private static bool IsPlainRelativePath(string path)
    {
        if (path.Length == 0 || path.Length > 512 || path.Contains('\\') || path.Contains(':') || path.Contains('\0'))
        {
            return false;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                return false;
            }
        }

        return true;
    }
}
