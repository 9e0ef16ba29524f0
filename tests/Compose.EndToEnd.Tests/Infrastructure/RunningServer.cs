using System.Net;
using System.Text;
using System.Text.Json;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>A response read to the end: status, media type and body.</summary>
/// <param name="Method">The request method.</param>
/// <param name="Path">The request path.</param>
/// <param name="Status">The status code.</param>
/// <param name="MediaType">The Content-Type media type, or null.</param>
/// <param name="Body">The body as text.</param>
public sealed record HttpResult(string Method, string Path, HttpStatusCode Status, string? MediaType, string Body)
{
    /// <summary>Parses the body as JSON (the caller disposes the document).</summary>
    public JsonDocument Json()
    {
        try
        {
            return JsonDocument.Parse(Body);
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"{this} is not JSON: {ex.Message}");
        }
    }

    /// <summary>Asserts the status code, naming the request and showing the body when it differs.</summary>
    public HttpResult AssertStatus(HttpStatusCode expected)
    {
        Assert.True(Status == expected, $"Expected {(int)expected} {expected} but got {this}");
        return this;
    }

    public override string ToString() => $"{Method} {Path} -> {(int)Status} {Status} ({MediaType}): {Body}";
}

/// <summary>A web server process listening on 127.0.0.1 at a free port, with an <see cref="HttpClient"/> pointed at it.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private RunningServer(ChildProcess process, Uri baseAddress)
    {
        Process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public ChildProcess Process { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> plus <c>--urls http://127.0.0.1:{port}</c> and
    /// waits until it answers <paramref name="readinessPath"/> (any status). Retries on another port when the chosen
    /// one was taken in the meantime. <paramref name="environment"/> adds or overrides environment variables of the process.
    /// </summary>
    public static async Task<RunningServer> StartAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        string readinessPath,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var baseAddress = new Uri($"http://127.0.0.1:{ChildProcess.FreeTcpPort()}/");
            var process = ChildProcess.Start(fileName, [.. arguments, "--urls", baseAddress.ToString().TrimEnd('/')], workingDirectory, environment);
            var server = new RunningServer(process, baseAddress);
            try
            {
                await process.WaitForHttpAsync(server.Client, new Uri(baseAddress, readinessPath), StartTimeout);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && process.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    public Task<HttpResult> GetAsync(string path) => SendAsync(HttpMethod.Get, path, json: null);

    public Task<HttpResult> PostJsonAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public async Task<HttpResult> SendAsync(HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new HttpResult(method.Method, path, response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
    }

    /// <summary>Runs assertions against the server; a failure carries the server's output.</summary>
    public async Task DiagnoseAsync(Func<Task> assertions)
    {
        try
        {
            await assertions();
        }
        catch (Exception ex)
        {
            var state = Process.HasExited ? "had exited" : "was running";
            throw new Xunit.Sdk.XunitException($"{ex.Message}{Environment.NewLine}{ChildProcess.Describe(Process.CommandLine, state, Process.Output)}", ex);
        }
    }

    /// <summary>Kills the process tree and waits for it to go.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
    }
}
