namespace Compose.Testing;

/// <summary>
/// A running host that tests talk to over HTTP: an in-process <see cref="ComposeTestHost"/> or a
/// <see cref="NativeTestHost"/> (the Native AOT publish of a host, run as a process). Write HTTP tests against this
/// interface and they run against both.
/// </summary>
public interface IComposeTestServer : IAsyncDisposable
{
    /// <summary>Gets the address the host serves, for example <c>http://127.0.0.1:5123/</c>.</summary>
    /// <exception cref="InvalidOperationException">The host has not started, or it failed to start.</exception>
    Uri BaseAddress { get; }

    /// <summary>Gets the host's log lines (in-process entries, or the process's console output), as written so far.</summary>
    ComposeTestLogs Logs { get; }

    /// <summary>Creates a client whose <see cref="HttpClient.BaseAddress"/> is <see cref="BaseAddress"/>; the caller disposes it.</summary>
    /// <returns>A new client.</returns>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    HttpClient CreateClient();
}
