using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Compose.Hosting;

/// <summary>
/// The router a plugin receives in <see cref="IServerPlugin.InitAsync"/>: its route group, closed to new routes
/// once the synchronous part of <c>InitAsync</c> has returned (Luker's "Register Routes Synchronously").
/// Every <c>Map*</c> extension reaches <see cref="DataSources"/>, so a late registration fails there, naming the plugin.
/// </summary>
/// <remarks>
/// The router is open only on the thread that calls <c>InitAsync</c>, until that call returns. Closing it after the
/// return alone would race: a continuation after <c>await Task.Yield()</c> can run on a pool thread before the
/// caller gets to close the router.
/// </remarks>
internal sealed class PluginRouteBuilder(IEndpointRouteBuilder group, ServerPluginDescriptor descriptor) : IEndpointRouteBuilder
{
    private readonly int _owner = Environment.CurrentManagedThreadId;
    private volatile bool _closed;

    public IServiceProvider ServiceProvider => group.ServiceProvider;

    public ICollection<EndpointDataSource> DataSources
    {
        get
        {
            ThrowIfClosed();
            return group.DataSources;
        }
    }

    public IApplicationBuilder CreateApplicationBuilder()
    {
        ThrowIfClosed();
        return group.CreateApplicationBuilder();
    }

    public void Close() => _closed = true;

    private void ThrowIfClosed()
    {
        if (_closed || Environment.CurrentManagedThreadId != _owner)
        {
            throw new InvalidOperationException(
                $"Server plugin '{descriptor.Id}' ({descriptor.PluginType.FullName}) registered a route after its InitAsync returned (or from another thread). " +
                "Register every route synchronously, before the first await in InitAsync, and do the asynchronous work after.");
        }
    }
}
