using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LlmProxy;

/// <summary>
/// Reads and vets request bodies before they are bound, so that every bad body is a 400 (or 413, 415) ProblemDetails
/// and never an unhandled exception: malformed JSON, lone surrogates in strings, numbers that are not finite doubles.
/// </summary>
internal static class RequestValidation
{
    /// <summary>Reads the body, at most <paramref name="maxBytes"/> bytes; returns it, or the error result to send.</summary>
    public static async Task<(byte[]? Body, IResult? Error)> ReadJsonBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json"));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var body = await ReadAtMostAsync(request.Body, maxBytes, cancellationToken);
        if (body is null)
        {
            return (null, TooLarge(maxBytes));
        }

        var reason = FindInvalidJson(body);
        return reason is null ? (body, null) : (null, Problem(StatusCodes.Status400BadRequest, $"Invalid JSON body: {reason}"));
    }

    /// <summary>
    /// Reads a stream to its end into one array, or returns <see langword="null"/> as soon as it holds more than
    /// <paramref name="maxBytes"/>: memory stays bounded whatever the other side sends.
    /// </summary>
    public static async Task<byte[]?> ReadAtMostAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await stream.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Walks every token: returns why the JSON is refused (malformed, a string that is not valid UTF-16 once
    /// unescaped, a number that is not a finite double), or <see langword="null"/>.
    /// </summary>
    public static string? FindInvalidJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName or JsonTokenType.String:
                        _ = reader.GetString();
                        break;
                    case JsonTokenType.Number:
                        if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        {
                            return "a number is out of range";
                        }

                        break;
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return "it is not well-formed";
        }
        catch (InvalidOperationException)
        {
            return "a string is not valid Unicode (a lone surrogate or invalid UTF-8)";
        }
    }

    /// <summary>Returns why <paramref name="value"/> is refused as a field of the configuration, or null.</summary>
    public static string? CheckText(string name, string value, bool asciiToken)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return $"{name} must not contain control characters";
            }

            if (asciiToken && (c <= ' ' || c > '~'))
            {
                return $"{name} must be printable ASCII without spaces";
            }
        }

        return null;
    }

    public static IResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);

    private static IResult TooLarge(long maxBytes) =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The request body exceeds {maxBytes} bytes");
}
