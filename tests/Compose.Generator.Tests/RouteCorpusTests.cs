using Xunit.Abstractions;

namespace Compose.Generator.Tests;

/// <summary>
/// The real-code corpus for CMP0008/CMP0009: registration shapes modelled on public minimal-API apps and docs
/// (TodoApi-style groups, eShop-style <c>Map*Api</c> extensions, Carter-style modules, options-driven routes,
/// background refreshers), written for this project. Every shape comes twice: the correct variant registers
/// every route before InitAsync's first await and must draw no diagnostic at all (a CMP0014 warning counts as a
/// false positive too); the late variant must draw the named error. The counts are recorded in
/// docs/diagnostics/CMP0008.md and CMP0009.md.
/// </summary>
public sealed class RouteCorpusTests(ITestOutputHelper output)
{
    /// <summary>One registration shape: the correct body, the late body, what the late one must draw, and the code both use.</summary>
    public sealed record Shape(string Name, string Early, string Late, string LateId, string Members = "", string Types = "")
    {
        public override string ToString() => Name;
    }

    private const string CommonMembers = """
        private static readonly string[] Paths = ["/a", "/b", "/c"];
        private static readonly Dictionary<string, string> Greetings = new() { ["/hello"] = "hello", ["/bye"] = "bye" };
        private static Task<bool> IsEnabledAsync() => Task.FromResult(true);
        private static async IAsyncEnumerable<string> PathsAsync() { await Task.Yield(); yield return "/async"; }
        public event EventHandler? Changed;
        private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty);
        """;

    public static IReadOnlyList<Shape> Corpus { get; } =
    [
        // --- The shapes the issue names: correct code that used to draw a false CMP0009. ---
        new("wrapper class holding the router",
            """var api = new NotesApi(router); api.MapEndpoints(); await Task.Delay(1, cancellationToken);""",
            """var api = new NotesApi(router); await Task.Delay(1, cancellationToken); api.MapEndpoints();""",
            "CMP0008",
            Types: """
                public sealed class NotesApi
                {
                    private readonly IEndpointRouteBuilder _routes;
                    public NotesApi(IEndpointRouteBuilder routes) { _routes = routes; }
                    public void MapEndpoints() { var g = _routes.MapGroup("/notes"); g.MapGet("/", () => "all"); g.MapGet("/{id}", (int id) => id); }
                }
                """),
        new("fluent registrar keeping the router in a field",
            """new RouteRegistrar(router).Add("/a").Add("/b").Done(); await Task.Yield();""",
            """_registrar = new RouteRegistrar(router).Add("/a");""",
            "CMP0009",
            Members: "private RouteRegistrar? _registrar;",
            Types: """
                public sealed class RouteRegistrar(IEndpointRouteBuilder router)
                {
                    private readonly List<string> _paths = [];
                    public RouteRegistrar Add(string path) { _paths.Add(path); return this; }
                    public void Done() { foreach (var path in _paths) { router.MapGet(path, () => path); } }
                }
                """),
        new("List.Add of groups into a local",
            """var groups = new List<RouteGroupBuilder>(); groups.Add(router.MapGroup("/v1")); groups.Add(router.MapGroup("/v2")); foreach (var g in groups) { g.MapGet("/health", () => "ok"); } await Task.Yield();""",
            """var groups = new List<RouteGroupBuilder>(); groups.Add(router.MapGroup("/v1")); await Task.Yield(); foreach (var g in groups) { g.MapGet("/health", () => "ok"); }""",
            "CMP0008"),
        new("Dictionary.Add of groups into a local",
            """var byVersion = new Dictionary<string, RouteGroupBuilder>(); byVersion.Add("v1", router.MapGroup("/v1")); byVersion["v1"].MapGet("/items", () => "items"); await Task.Yield();""",
            """var byVersion = new Dictionary<string, RouteGroupBuilder>(); byVersion.Add("v1", router.MapGroup("/v1")); await Task.Yield(); byVersion["v1"].MapGet("/items", () => "items");""",
            "CMP0008"),
        new("indexer assignment into a local dictionary",
            """var areas = new Dictionary<string, IEndpointRouteBuilder>(); areas["admin"] = router.MapGroup("/admin"); areas["admin"].MapGet("/users", () => "users"); await Task.Yield();""",
            """_areas["admin"] = router.MapGroup("/admin");""",
            "CMP0009",
            Members: "private readonly Dictionary<string, IEndpointRouteBuilder> _areas = new();"),
        new("router parameter reassigned to a group",
            """router = router.MapGroup("/v1"); router.MapGet("/a", () => "a"); await Task.Yield();""",
            """router = router.MapGroup("/v1"); await Task.Yield(); router.MapGet("/a", () => "a");""",
            "CMP0008"),
        new("handler reading router.ServiceProvider at request time",
            """router.MapGet("/svc", () => router.ServiceProvider.GetService(typeof(ILoggerFactory)) is null ? "none" : "ok"); await Task.Yield();""",
            """router.MapGet("/svc", () => { router.MapGet("/late", () => "late"); return "ok"; });""",
            "CMP0009"),
        new("handler reading a group's ServiceProvider",
            """IEndpointRouteBuilder todos = router.MapGroup("/todos"); todos.MapGet("/", () => todos.ServiceProvider.GetRequiredService<ILoggerFactory>().ToString()); await Task.Yield();""",
            """var todos = router.MapGroup("/todos"); todos.MapPost("/", () => { todos.MapGet("/new", () => "x"); return "ok"; });""",
            "CMP0009"),

        // --- The shapes the issue names: late code that used to be missed. ---
        new("??= into a local vs a field",
            """IEndpointRouteBuilder? cached = null; cached ??= router; cached.MapGet("/a", () => "a"); await Task.Yield();""",
            """_router ??= router;""",
            "CMP0009",
            Members: "private IEndpointRouteBuilder? _router;"),
        new("positional record",
            """var set = new RouteSet(router, "/notes"); set.Router.MapGet(set.Prefix, () => "notes"); await Task.Yield();""",
            """_set = new RouteSet(router, "/notes");""",
            "CMP0009",
            Members: "private RouteSet? _set;",
            Types: "public sealed record RouteSet(IEndpointRouteBuilder Router, string Prefix);"),
        new("positional record used after an await",
            """var set = new RouteSet(router, "/notes"); set.Router.MapGet(set.Prefix, () => "notes"); await Task.Yield();""",
            """var set = new RouteSet(router, "/notes"); await Task.Yield(); set.Router.MapGet(set.Prefix, () => "notes");""",
            "CMP0008",
            Types: "public sealed record RouteSet(IEndpointRouteBuilder Router, string Prefix);"),
        new("tuple stored in a field",
            """var pair = (api: router.MapGroup("/api"), name: "api"); pair.api.MapGet("/" + pair.name, () => "x"); await Task.Yield();""",
            """_pair = (router, "api");""",
            "CMP0009",
            Members: "private (IEndpointRouteBuilder Router, string Name) _pair;"),
        new("tuple read after an await",
            """var pair = (api: router.MapGroup("/api"), name: "api"); pair.api.MapGet("/x", () => "x"); await Task.Yield();""",
            """var pair = (api: router.MapGroup("/api"), name: "api"); await Task.Yield(); pair.api.MapGet("/x", () => "x");""",
            "CMP0008"),
        new("collection expression",
            """IEndpointRouteBuilder[] all = [router.MapGroup("/a"), router.MapGroup("/b")]; foreach (var g in all) { g.MapGet("/ping", () => "pong"); } await Task.Yield();""",
            """_all = [router];""",
            "CMP0009",
            Members: "private List<IEndpointRouteBuilder> _all = [];"),
        new("same-compilation method storing a delegate that runs later",
            """Deferred.Now(() => router.MapGet("/now", () => "now")); await Task.Yield();""",
            """Deferred.Later(() => router.MapGet("/later", () => "later"));""",
            "CMP0009",
            Types: """
                public static class Deferred
                {
                    private static readonly List<Action> Pending = [];
                    public static void Now(Action action) => action();
                    public static void Later(Action action) => Pending.Add(action);
                    public static void RunPending() { foreach (var action in Pending) { action(); } }
                }
                """),
        new("generic async helper",
            """await MapNowAsync<Note>(router);""",
            """await MapLaterAsync<Note>(router);""",
            "CMP0008",
            Types: """
                public sealed class Note { public string Text { get; set; } = ""; }
                public static class GenericRoutes
                {
                    public static Task MapNowAsync<T>(IEndpointRouteBuilder r) where T : new() { r.MapGet("/" + typeof(T).Name, () => new T()); return Task.CompletedTask; }
                    public static async Task MapLaterAsync<T>(IEndpointRouteBuilder r) where T : new() { await Task.Yield(); r.MapGet("/" + typeof(T).Name, () => new T()); }
                }
                """,
            Members: """
                private static Task MapNowAsync<T>(IEndpointRouteBuilder r) where T : new() => GenericRoutes.MapNowAsync<T>(r);
                private static Task MapLaterAsync<T>(IEndpointRouteBuilder r) where T : new() => GenericRoutes.MapLaterAsync<T>(r);
                """),
        new("interface call whose implementation is async",
            """IEndpointModule module = new SyncNotesModule(); module.Map(router); await Task.Yield();""",
            """IRouteModule module = new AsyncNotesModule(); await module.MapAsync(router);""",
            "CMP0008",
            Types: """
                public interface IEndpointModule { void Map(IEndpointRouteBuilder routes); }
                public interface IRouteModule { Task MapAsync(IEndpointRouteBuilder routes); }
                public sealed class SyncNotesModule : IEndpointModule { public void Map(IEndpointRouteBuilder routes) => routes.MapGet("/notes", () => "notes"); }
                public sealed class AsyncNotesModule : IRouteModule
                {
                    public async Task MapAsync(IEndpointRouteBuilder routes) { await Task.Delay(1); routes.MapGet("/notes", () => "notes"); }
                }
                """),
        new("helpers five levels deep",
            """Chain.L1(router, late: false); await Task.Yield();""",
            """_ = Chain.L1Async(router); await Task.Yield();""",
            "CMP0008",
            Types: """
                public static class Chain
                {
                    public static void L1(IEndpointRouteBuilder r, bool late) => L2(r);
                    private static void L2(IEndpointRouteBuilder r) => L3(r);
                    private static void L3(IEndpointRouteBuilder r) => L4(r);
                    private static void L4(IEndpointRouteBuilder r) => L5(r);
                    private static void L5(IEndpointRouteBuilder r) => r.MapGet("/deep", () => "deep");
                    public static Task L1Async(IEndpointRouteBuilder r) => L2Async(r);
                    private static Task L2Async(IEndpointRouteBuilder r) => L3Async(r);
                    private static Task L3Async(IEndpointRouteBuilder r) => L4Async(r);
                    private static Task L4Async(IEndpointRouteBuilder r) => L5Async(r);
                    private static async Task L5Async(IEndpointRouteBuilder r) { await Task.Yield(); r.MapGet("/deep", () => "deep"); }
                }
                """),
        new("MapGet inside an endpoint filter lambda",
            """router.MapGet("/a", () => "a").AddEndpointFilter(async (context, next) => await next(context)); await Task.Yield();""",
            """router.MapGet("/a", () => "a").AddEndpointFilter(async (context, next) => { router.MapGet("/late", () => "late"); return await next(context); });""",
            "CMP0009"),
        new("iterator that maps when enumerated",
            """foreach (var builder in LazyRoutes.MapAll(router, Paths)) { builder.WithTags("lazy"); } await Task.Yield();""",
            """var builders = LazyRoutes.MapAll(router, Paths); await Task.Yield(); foreach (var builder in builders) { builder.WithTags("lazy"); }""",
            "CMP0008",
            Types: """
                public static class LazyRoutes
                {
                    public static IEnumerable<RouteHandlerBuilder> MapAll(IEndpointRouteBuilder r, IEnumerable<string> paths)
                    {
                        foreach (var path in paths) { yield return r.MapGet(path, () => path); }
                    }
                }
                """),
        new("iterator kept in a field",
            """var mapped = LazyRoutes.MapAll(router, Paths).ToList(); await Task.Yield(); _ = mapped.Count;""",
            """_pending = LazyRoutes.MapAll(router, Paths);""",
            "CMP0009",
            Members: "private IEnumerable<RouteHandlerBuilder>? _pending;",
            Types: """
                public static class LazyRoutes
                {
                    public static IEnumerable<RouteHandlerBuilder> MapAll(IEndpointRouteBuilder r, IEnumerable<string> paths)
                    {
                        foreach (var path in paths) { yield return r.MapGet(path, () => path); }
                    }
                }
                """),
        new("extension-method helper (the classic form of a C# 14 extension block)",
            """router.MapNotesApi(); await Task.Yield();""",
            """await router.MapNotesApiAsync();""",
            "CMP0008",
            Types: """
                public static class NotesEndpoints
                {
                    public static RouteGroupBuilder MapNotesApi(this IEndpointRouteBuilder app) { var g = app.MapGroup("/notes"); g.MapGet("/", () => "notes"); return g; }
                    public static async Task MapNotesApiAsync(this IEndpointRouteBuilder app) { await Task.Yield(); app.MapGroup("/notes").MapGet("/", () => "notes"); }
                }
                """),

        // --- Common shapes from public apps and docs. ---
        new("TodoApi-style group with conventions",
            """var todos = router.MapGroup("/todos").WithTags("Todos"); todos.MapGet("/", () => "all"); todos.MapPost("/", (string title) => title); todos.MapDelete("/{id}", (int id) => id); await Task.Delay(1, cancellationToken);""",
            """var todos = router.MapGroup("/todos"); var seed = await Task.FromResult("seed"); todos.MapGet("/", () => seed);""",
            "CMP0008"),
        new("group convention added after an await",
            """var g = router.MapGroup("/todos"); g.WithTags("todos").WithName("todos"); await Task.Yield();""",
            """var g = router.MapGroup("/todos"); await Task.Yield(); g.WithTags("todos");""",
            "CMP0008"),
        new("eShop-style Map*Api extension returning its group",
            """var api = router.MapNotesApi(); api.MapGet("/count", () => 1); await Task.Yield();""",
            """await Task.Yield(); router.MapNotesApi();""",
            "CMP0008",
            Types: """
                public static class NotesEndpoints
                {
                    public static RouteGroupBuilder MapNotesApi(this IEndpointRouteBuilder app) { var g = app.MapGroup("/notes"); g.MapGet("/", () => "notes"); return g; }
                }
                """),
        new("Carter-style module list",
            """var modules = new List<IEndpointModule> { new SyncNotesModule(), new SyncTagsModule() }; foreach (var m in modules) { m.Map(router); } await Task.Yield();""",
            """var modules = new List<IEndpointModule> { new SyncNotesModule(), new SyncTagsModule() }; await Task.Yield(); foreach (var m in modules) { m.Map(router); }""",
            "CMP0008",
            Types: """
                public interface IEndpointModule { void Map(IEndpointRouteBuilder routes); }
                public sealed class SyncNotesModule : IEndpointModule { public void Map(IEndpointRouteBuilder routes) => routes.MapGet("/notes", () => "notes"); }
                public sealed class SyncTagsModule : IEndpointModule { public void Map(IEndpointRouteBuilder routes) => routes.MapGet("/tags", () => "tags"); }
                """),
        new("virtual module base with an async override",
            """ModuleBase module = new SyncReports(); module.Map(router); await Task.Yield();""",
            """ModuleBase module = new AsyncReports(); module.Map(router); await Task.Yield();""",
            "CMP0008",
            Types: """
                public abstract class ModuleBase { public abstract void Map(IEndpointRouteBuilder routes); }
                public sealed class SyncReports : ModuleBase { public override void Map(IEndpointRouteBuilder routes) => routes.MapGet("/reports", () => "r"); }
                public sealed class AsyncReports : ModuleBase
                {
                    public override void Map(IEndpointRouteBuilder routes) => _ = MapLaterAsync(routes);
                    private static async Task MapLaterAsync(IEndpointRouteBuilder routes) { await Task.Yield(); routes.MapGet("/reports", () => "r"); }
                }
                """),
        new("options-driven routes from a static dictionary",
            """foreach (var (path, text) in Greetings) { router.MapGet(path, () => text); } await Task.Yield();""",
            """await foreach (var path in PathsAsync()) { router.MapGet(path, () => path); }""",
            "CMP0008"),
        new("conditional registration on a flag",
            """var admin = Environment.GetEnvironmentVariable("ADMIN") is not null; if (admin) { router.MapGet("/admin", () => "admin"); } await Task.Yield();""",
            """if (await IsEnabledAsync()) { router.MapGet("/admin", () => "admin"); }""",
            "CMP0008"),
        new("registration inside try/catch",
            """try { router.MapGet("/a", () => "a"); } catch (InvalidOperationException ex) { Console.WriteLine(ex.Message); } await Task.Yield();""",
            """try { await Task.Yield(); } finally { router.MapGet("/a", () => "a"); }""",
            "CMP0008"),
        new("switch on a mode",
            """switch (Paths.Length) { case 3: router.MapGet("/three", () => 3); break; default: router.MapGet("/other", () => 0); break; } await Task.Yield();""",
            """switch (Paths.Length) { case 3: await Task.Yield(); router.MapGet("/three", () => 3); break; default: break; }""",
            "CMP0008"),
        new("local function registering a CRUD group",
            """void MapCrud(string name) { var g = router.MapGroup("/" + name); g.MapGet("/", () => name); g.MapDelete("/{id}", (int id) => id); } MapCrud("notes"); MapCrud("tags"); await Task.Yield();""",
            """void MapCrud(string name) { var g = router.MapGroup("/" + name); g.MapGet("/", () => name); } MapCrud("notes"); await Task.Yield(); MapCrud("tags");""",
            "CMP0008"),
        new("delegate local invoked",
            """Action<string> map = path => router.MapGet(path, () => path); map("/a"); map("/b"); await Task.Yield();""",
            """Action<string> map = path => router.MapGet(path, () => path); await Task.Yield(); map("/b");""",
            "CMP0008"),
        new("Task.Run warm-up",
            """router.MapGet("/a", () => "a"); _ = Task.Run(() => Console.WriteLine("warm"), cancellationToken);""",
            """_ = Task.Run(async () => { await Task.Delay(100); router.MapGet("/late", () => "late"); }, cancellationToken);""",
            "CMP0009"),
        new("timer refresh",
            """router.MapGet("/a", () => "a"); _timer = new Timer(_ => Console.WriteLine("tick"), null, 1000, 1000);""",
            """_timer = new Timer(_ => router.MapGet("/tick", () => "tick"), null, 1000, Timeout.Infinite);""",
            "CMP0009",
            Members: "private Timer? _timer;"),
        new("background refresh loop started from InitAsync",
            """router.MapGet("/a", () => "a"); _ = RefreshLoopAsync(cancellationToken);""",
            """_ = RefreshLoopWithRoutesAsync(router, cancellationToken);""",
            "CMP0008",
            Members: """
                private static async Task RefreshLoopAsync(CancellationToken ct) { while (!ct.IsCancellationRequested) { await Task.Delay(1000, ct); } }
                private static async Task RefreshLoopWithRoutesAsync(IEndpointRouteBuilder r, CancellationToken ct) { await Task.Delay(1000, ct); r.MapGet("/fresh", () => "fresh"); }
                """),
        new("ContinueWith",
            """router.MapGet("/a", () => "a"); _ = Task.Delay(1).ContinueWith(_ => Console.WriteLine("done"), TaskScheduler.Default);""",
            """_ = Task.Delay(1).ContinueWith(_ => router.MapGet("/b", () => "b"), TaskScheduler.Default);""",
            "CMP0009"),
        new("CancellationToken.Register",
            """router.MapGet("/a", () => "a"); cancellationToken.Register(() => Console.WriteLine("stopping"));""",
            """cancellationToken.Register(() => router.MapGet("/stopped", () => "stopped"));""",
            "CMP0009"),
        new("Lazy group",
            """var lazy = new Lazy<int>(() => Paths.Length); router.MapGet("/n", () => lazy.Value); await Task.Yield();""",
            """_lazy = new Lazy<RouteGroupBuilder>(() => router.MapGroup("/lazy"));""",
            "CMP0009",
            Members: "private Lazy<RouteGroupBuilder>? _lazy;"),
        new("event subscription",
            """Changed += (_, _) => Console.WriteLine("changed"); router.MapGet("/a", () => "a"); await Task.Yield();""",
            """Changed += (_, _) => router.MapGet("/changed", () => "changed");""",
            "CMP0009"),
        new("configuration reload callback",
            """var config = new ConfigurationBuilder().Build(); Microsoft.Extensions.Primitives.ChangeToken.OnChange(() => config.GetReloadToken(), () => Console.WriteLine("reloaded")); router.MapGet("/a", () => "a");""",
            """var config = new ConfigurationBuilder().Build(); Microsoft.Extensions.Primitives.ChangeToken.OnChange(() => config.GetReloadToken(), () => router.MapGet("/reloaded", () => "r"));""",
            "CMP0009"),
        new("static registry list",
            """var local = new List<IEndpointRouteBuilder> { router }; local[0].MapGet("/a", () => "a"); await Task.Yield();""",
            """Registry.Routers.Add(router);""",
            "CMP0009",
            Types: "public static class Registry { public static readonly List<IEndpointRouteBuilder> Routers = []; }"),
        new("instance helper storing into the plugin",
            """Describe(router); await Task.Yield();""",
            """Remember(router);""",
            "CMP0009",
            Members: """
                private IEndpointRouteBuilder? _kept;
                private static void Describe(IEndpointRouteBuilder r) => Console.WriteLine(r.DataSources.Count);
                private void Remember(IEndpointRouteBuilder r) => _kept = r;
                public bool HasKept => _kept is not null;
                """),
        new("object initializer wrapper",
            """var context = new RouteContext { Router = router, Prefix = "/ctx" }; context.Router.MapGet(context.Prefix, () => "ctx"); await Task.Yield();""",
            """_context = new RouteContext { Router = router, Prefix = "/ctx" };""",
            "CMP0009",
            Members: "private RouteContext? _context;",
            Types: "public sealed class RouteContext { public IEndpointRouteBuilder? Router { get; set; } public string Prefix { get; set; } = \"\"; }"),
        new("anonymous object",
            """var cfg = new { Group = router.MapGroup("/anon"), Name = "anon" }; cfg.Group.MapGet("/" + cfg.Name, () => "x"); await Task.Yield();""",
            """var cfg = new { Group = router.MapGroup("/anon"), Name = "anon" }; await Task.Yield(); cfg.Group.MapGet("/" + cfg.Name, () => "x");""",
            "CMP0008"),
        new("array element",
            """var slots = new IEndpointRouteBuilder[1]; slots[0] = router; slots[0].MapGet("/slot", () => "slot"); await Task.Yield();""",
            """Slots[0] = router;""",
            "CMP0009",
            Members: "private static readonly IEndpointRouteBuilder?[] Slots = new IEndpointRouteBuilder?[1];"),
        new("queue of groups",
            """var queue = new Queue<RouteGroupBuilder>(); queue.Enqueue(router.MapGroup("/q")); queue.Dequeue().MapGet("/x", () => "x"); await Task.Yield();""",
            """var queue = new Queue<RouteGroupBuilder>(); queue.Enqueue(router.MapGroup("/q")); await Task.Yield(); queue.Dequeue().MapGet("/x", () => "x");""",
            "CMP0008"),
        new("TryGetValue out of a local dictionary",
            """var groups = new Dictionary<string, RouteGroupBuilder> { ["a"] = router.MapGroup("/a") }; if (groups.TryGetValue("a", out var g)) { g.MapGet("/x", () => "x"); } await Task.Yield();""",
            """var groups = new Dictionary<string, RouteGroupBuilder> { ["a"] = router.MapGroup("/a") }; await Task.Yield(); if (groups.TryGetValue("a", out var g)) { g.MapGet("/x", () => "x"); }""",
            "CMP0008"),
        new("LINQ Select enumerated before vs after the await",
            """var builders = Paths.Select(p => router.MapGet(p, () => p)).ToList(); await Task.Yield(); _ = builders.Count;""",
            """var builders = Paths.Select(p => router.MapGet(p, () => p)); await Task.Yield(); _ = builders.ToList();""",
            "CMP0008"),
        new("LINQ Select kept in a field",
            """var builders = Paths.Select(p => router.MapGet(p, () => p)).ToArray(); _ = builders.Length; await Task.Yield();""",
            """_mapped = Paths.Select(p => router.MapGet(p, () => p));""",
            "CMP0009",
            Members: "private IEnumerable<RouteHandlerBuilder>? _mapped;"),
        new("List.ForEach over groups",
            """var groups = new List<RouteGroupBuilder> { router.MapGroup("/a"), router.MapGroup("/b") }; groups.ForEach(g => g.MapGet("/x", () => "x")); await Task.Yield();""",
            """var groups = new List<RouteGroupBuilder> { router.MapGroup("/a") }; await Task.Yield(); groups.ForEach(g => g.MapGet("/x", () => "x"));""",
            "CMP0008"),
        new("Map builder kept in a field",
            """var builder = router.MapGet("/a", () => "a"); builder.WithName("a").WithTags("a"); await Task.Yield();""",
            """_builder = router.MapGet("/a", () => "a");""",
            "CMP0009",
            Members: "private RouteHandlerBuilder? _builder;"),
        new("helper returning a group",
            """var api = CreateApi(router); api.MapGet("/x", () => "x"); await Task.Yield();""",
            """var api = CreateApi(router); await Task.Yield(); api.MapGet("/x", () => "x");""",
            "CMP0008",
            Members: """private static RouteGroupBuilder CreateApi(IEndpointRouteBuilder r) => r.MapGroup("/api").WithTags("api");"""),
        new("record struct wrapper",
            """var reference = new GroupRef(router.MapGroup("/s")); reference.Group.MapGet("/x", () => "x"); await Task.Yield();""",
            """_reference = new GroupRef(router.MapGroup("/s"));""",
            "CMP0009",
            Members: "private GroupRef _reference;",
            Types: "public readonly record struct GroupRef(RouteGroupBuilder Group);"),
        new("await using before vs around registrations",
            """await using var lease = new Lease(); router.MapGet("/a", () => "a");""",
            """await using (new Lease()) { } router.MapGet("/a", () => "a");""",
            "CMP0008",
            Types: "public sealed class Lease : IAsyncDisposable { public ValueTask DisposeAsync() => ValueTask.CompletedTask; }"),
        new("ValueTask helper",
            """await MapNowAsync(router);""",
            """await MapLaterAsync(router);""",
            "CMP0008",
            Members: """
                private static ValueTask MapNowAsync(IEndpointRouteBuilder r) { r.MapGet("/now", () => "now"); return ValueTask.CompletedTask; }
                private static async ValueTask MapLaterAsync(IEndpointRouteBuilder r) { await Task.Yield(); r.MapGet("/later", () => "later"); }
                """),
        new("ConfigureAwait(false) before registering",
            """router.MapGet("/a", () => "a"); await Task.Delay(1, cancellationToken).ConfigureAwait(false);""",
            """await Task.Delay(1, cancellationToken).ConfigureAwait(false); router.MapGet("/a", () => "a");""",
            "CMP0008"),
        new("helper receiving a list of groups",
            """var groups = new List<RouteGroupBuilder> { router.MapGroup("/a") }; MapHealth(groups); await Task.Yield();""",
            """var groups = new List<RouteGroupBuilder> { router.MapGroup("/a") }; await MapHealthLaterAsync(groups);""",
            "CMP0008",
            Members: """
                private static void MapHealth(List<RouteGroupBuilder> groups) { foreach (var g in groups) { g.MapGet("/health", () => "ok"); } }
                private static async Task MapHealthLaterAsync(List<RouteGroupBuilder> groups) { await Task.Yield(); foreach (var g in groups) { g.MapGet("/health", () => "ok"); } }
                """),
        new("retry helper invoking a callback after its await",
            """await OnceAsync(() => { router.MapGet("/once", () => "once"); return Task.CompletedTask; });""",
            """await RetryAsync(() => { router.MapGet("/retry", () => "retry"); return Task.CompletedTask; });""",
            "CMP0008",
            Members: """
                private static Task OnceAsync(Func<Task> operation) => operation();
                private static async Task RetryAsync(Func<Task> operation) { await Task.Delay(1); await operation(); }
                """),
        new("endpoint filter added after an await",
            """var b = router.MapGet("/a", () => "a"); b.AddEndpointFilter(async (c, n) => await n(c)); await Task.Yield();""",
            """var b = router.MapGet("/a", () => "a"); await Task.Yield(); b.AddEndpointFilter(async (c, n) => await n(c));""",
            "CMP0008"),
        new("wrapper with a primary constructor and member methods",
            """var api = new TagsApi(router); api.Map(); await Task.Yield();""",
            """var api = new TagsApi(router); _ = Task.Run(api.Map);""",
            "CMP0009",
            Types: """
                public sealed class TagsApi(IEndpointRouteBuilder routes)
                {
                    public void Map() { routes.MapGet("/tags", () => "tags"); }
                }
                """),
        new("wrapper method passed as a callback that runs now vs later",
            """var api = new TagsApi(router); Array.ForEach(Paths, _ => api.Map()); await Task.Yield();""",
            """var api = new TagsApi(router); cancellationToken.Register(() => api.Map());""",
            "CMP0009",
            Types: """
                public sealed class TagsApi(IEndpointRouteBuilder routes)
                {
                    public void Map() { routes.MapGet("/tags", () => "tags"); }
                }
                """),
        new("wrapper with services whose handlers use its fields",
            """new TodoEndpoints(router, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Map(); await Task.Yield();""",
            """var todos = new TodoEndpoints(router, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance); Changed += (_, _) => todos.Map();""",
            "CMP0009",
            Types: """
                public sealed class TodoEndpoints(IEndpointRouteBuilder routes, ILoggerFactory loggers)
                {
                    private readonly ILogger _log = loggers.CreateLogger("todos");
                    private readonly List<string> _items = [];
                    public void Map()
                    {
                        var g = routes.MapGroup("/todos");
                        g.MapGet("/", () => { _log.LogInformation("list"); return _items.ToArray(); });
                        g.MapPost("/", (string item) => { _items.Add(item); return item; });
                    }
                }
                """),
        new("plugin loading its store after registering",
            """router.MapGet("/notes", () => _store.All()); router.MapPost("/notes", (string text) => _store.Add(text)); await _store.LoadAsync(cancellationToken);""",
            """await _store.LoadAsync(cancellationToken); router.MapGet("/notes", () => _store.All());""",
            "CMP0008",
            Members: "private readonly NotesStore _store = new();",
            Types: """
                public sealed class NotesStore
                {
                    private readonly List<string> _notes = [];
                    public string[] All() => _notes.ToArray();
                    public string Add(string text) { _notes.Add(text); return text; }
                    public Task LoadAsync(CancellationToken ct) => Task.Delay(1, ct);
                }
                """),
        new("nested groups built by a local helper",
            """RouteGroupBuilder Sub(RouteGroupBuilder parent, string name) => parent.MapGroup("/" + name); var v1 = router.MapGroup("/v1"); Sub(v1, "a").MapGet("/", () => "a"); await Task.Yield();""",
            """RouteGroupBuilder Sub(RouteGroupBuilder parent, string name) => parent.MapGroup("/" + name); var v1 = router.MapGroup("/v1"); await Task.Yield(); Sub(v1, "a").MapGet("/", () => "a");""",
            "CMP0008"),
    ];

    public static TheoryData<Shape> Shapes
    {
        get
        {
            var data = new TheoryData<Shape>();
            foreach (var shape in Corpus)
            {
                data.Add(shape);
            }

            return data;
        }
    }

    [Fact]
    public void CorpusHasAtLeastFiftyShapes() => Assert.True(Corpus.Count >= 50, $"{Corpus.Count} shapes");

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task EarlyVariantDrawsNothing(Shape shape)
    {
        var diagnostics = await RouteAnalyzerTests.AnalyzeAsync(shape.Early, CommonMembers + "\n" + shape.Members, shape.Types);
        Assert.True(diagnostics.IsEmpty, string.Join(Environment.NewLine, diagnostics));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task LateVariantDrawsTheError(Shape shape)
    {
        var diagnostics = await RouteAnalyzerTests.AnalyzeAsync(shape.Late, CommonMembers + "\n" + shape.Members, shape.Types);
        Assert.True(diagnostics.Any(d => d.Id == shape.LateId), $"expected {shape.LateId}, got: " + string.Join(Environment.NewLine, diagnostics));
    }

    /// <summary>The numbers recorded in the CMP0008 and CMP0009 pages: false positives and silent misses over the whole corpus.</summary>
    [Fact]
    public async Task CorpusCounts()
    {
        int falsePositives = 0, silentMisses = 0, wrongRule = 0;
        foreach (var shape in Corpus)
        {
            var members = CommonMembers + "\n" + shape.Members;
            if (!(await RouteAnalyzerTests.AnalyzeAsync(shape.Early, members, shape.Types)).IsEmpty)
            {
                falsePositives++;
                output.WriteLine("false positive: " + shape.Name);
            }

            var late = await RouteAnalyzerTests.AnalyzeAsync(shape.Late, members, shape.Types);
            if (late.IsEmpty)
            {
                silentMisses++;
                output.WriteLine("silent miss: " + shape.Name);
            }
            else if (!late.Any(d => d.Id == shape.LateId))
            {
                wrongRule++;
                output.WriteLine($"other rule: {shape.Name}: {string.Join(", ", late.Select(d => d.Id))}");
            }
        }

        output.WriteLine($"{Corpus.Count} shapes: {falsePositives} false positives, {silentMisses} silent misses, {wrongRule} caught under another id");
        Assert.Equal((0, 0, 0), (falsePositives, silentMisses, wrongRule));
    }
}
