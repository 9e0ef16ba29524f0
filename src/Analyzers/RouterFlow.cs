using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Compose.Analyzers;

/// <summary>A rule broken somewhere in the analysed code: where to report it, the message detail, and the offending line elsewhere.</summary>
internal readonly record struct Finding(DiagnosticDescriptor Descriptor, Location Location, string Detail, Location? Inner = null);

/// <summary>How a value relates to the router.</summary>
[Flags]
internal enum Taint
{
    /// <summary>Unrelated to the router.</summary>
    None = 0,

    /// <summary>The router itself or something made from it that registers routes (a group, a <c>Map*</c> builder).</summary>
    Router = 1,

    /// <summary>
    /// Something that holds the router or runs code using it: an object or collection it was stored in, a tuple,
    /// a delegate capturing it, a lazy sequence that maps routes when enumerated.
    /// </summary>
    Holder = 2,
}

/// <summary>A place in a method of the compilation that matters to the rules, seen from a caller.</summary>
/// <param name="Location">The offending line itself (the innermost one, however deep the calls go).</param>
/// <param name="Path">The chain of calls from the caller's callee to that line, e.g. <c>Outer → Inner</c>.</param>
/// <param name="What">What happens there, e.g. "stores it in the field '_router'".</param>
internal sealed record Site(Location Location, string Path, string What);

/// <summary>What a method of the compilation does with the router or router holder it receives in one position.</summary>
internal sealed class HelperSummary
{
    /// <summary>The first use of the router that registers (or may register) routes.</summary>
    public Site? FirstUse { get; set; }

    /// <summary>The first such use reachable after the method's own first await.</summary>
    public Site? LateUse { get; set; }

    /// <summary>Where the router leaves for somewhere that outlives the call.</summary>
    public Site? Escape { get; set; }

    /// <summary>Where the analysis had to stop (too deep, code it cannot see).</summary>
    public Site? GaveUp { get; set; }

    /// <summary>Where the method keeps the router in a field of its own object (the receiver then holds it).</summary>
    public Site? StoresInReceiver { get; set; }

    /// <summary>An iterator: its body runs when the returned sequence is enumerated, not at the call.</summary>
    public bool IsIterator { get; set; }
}

/// <summary>
/// What the router analysis keeps per compilation: summaries of the methods it followed, the implementations of
/// interface and virtual methods, and which types can hold a router. Shared by every InitAsync of the compilation,
/// so each helper is analysed once per compilation, not once per caller or keystroke of an unrelated file.
/// </summary>
internal sealed class RouteAnalysisCache(Compilation compilation, KnownSymbols symbols)
{
    private readonly Lazy<ImmutableArray<INamedTypeSymbol>> _sourceTypes = new(() => CollectTypes(compilation.Assembly.GlobalNamespace));

    public ConcurrentDictionary<SummaryKey, HelperSummary> Summaries { get; } = new();

    public ConcurrentDictionary<IMethodSymbol, ImmutableArray<IMethodSymbol>> Implementations { get; } = new(SymbolEqualityComparer.Default);

    public ConcurrentDictionary<ITypeSymbol, bool> MayHold { get; } = new(SymbolEqualityComparer.Default);

    public Compilation Compilation { get; } = compilation;

    public KnownSymbols Symbols { get; } = symbols;

    /// <summary>Every method of this compilation that a call to <paramref name="method"/> may run (itself, overrides, interface implementations).</summary>
    public ImmutableArray<IMethodSymbol> Targets(IMethodSymbol method)
        => Implementations.GetOrAdd(method.OriginalDefinition, m =>
        {
            var targets = ImmutableArray.CreateBuilder<IMethodSymbol>();
            if (!m.IsAbstract && m.ContainingType?.TypeKind != TypeKind.Interface)
            {
                targets.Add(m);
            }

            if (!m.IsAbstract && !m.IsVirtual && !m.IsOverride && m.ContainingType?.TypeKind != TypeKind.Interface)
            {
                return targets.ToImmutable();
            }

            foreach (var type in _sourceTypes.Value)
            {
                if (m.ContainingType?.TypeKind == TypeKind.Interface)
                {
                    if (type.TypeKind is TypeKind.Class or TypeKind.Struct
                        && type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, m.ContainingType.OriginalDefinition)))
                    {
                        foreach (var constructed in type.AllInterfaces.Where(i => SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, m.ContainingType.OriginalDefinition)))
                        {
                            var member = constructed.GetMembers(m.Name).OfType<IMethodSymbol>().FirstOrDefault(x => SymbolEqualityComparer.Default.Equals(x.OriginalDefinition, m));
                            if (member is not null && type.FindImplementationForInterfaceMember(member) is IMethodSymbol implementation && !implementation.IsAbstract)
                            {
                                AddOnce(targets, implementation.OriginalDefinition);
                            }
                        }
                    }

                    continue;
                }

                foreach (var candidate in type.GetMembers(m.Name).OfType<IMethodSymbol>().Where(x => x.IsOverride && !x.IsAbstract))
                {
                    for (var overridden = candidate.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
                    {
                        if (SymbolEqualityComparer.Default.Equals(overridden.OriginalDefinition, m))
                        {
                            AddOnce(targets, candidate.OriginalDefinition);
                            break;
                        }
                    }
                }
            }

            return targets.ToImmutable();
        });

    private static void AddOnce(ImmutableArray<IMethodSymbol>.Builder targets, IMethodSymbol method)
    {
        if (!targets.Contains(method, SymbolEqualityComparer.Default))
        {
            targets.Add(method);
        }
    }

    private static ImmutableArray<INamedTypeSymbol> CollectTypes(INamespaceSymbol root)
    {
        var types = ImmutableArray.CreateBuilder<INamedTypeSymbol>();
        var pending = new Stack<INamespaceOrTypeSymbol>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            foreach (var member in pending.Pop().GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    pending.Push(ns);
                }
                else if (member is INamedTypeSymbol type)
                {
                    types.Add(type);
                    pending.Push(type);
                }
            }
        }

        return types.ToImmutable();
    }
}

/// <summary>Identifies a summary: the method, the position of the router (-1 for the receiver) and what is passed.</summary>
internal readonly struct SummaryKey(IMethodSymbol method, int position, Taint taint) : IEquatable<SummaryKey>
{
    public IMethodSymbol Method { get; } = method;

    public int Position { get; } = position;

    public Taint Taint { get; } = taint;

    public bool Equals(SummaryKey other)
        => Position == other.Position && Taint == other.Taint && SymbolEqualityComparer.Default.Equals(Method, other.Method);

    public override bool Equals(object? obj) => obj is SummaryKey other && Equals(other);

    public override int GetHashCode() => (SymbolEqualityComparer.Default.GetHashCode(Method) * 31 + Position) * 7 + (int)Taint;
}

/// <summary>
/// Follows the router through a method's control flow graph: which locals, flow captures, objects, collections and
/// delegates alias or hold it, which blocks run after an await (loops included, finally and catch regions
/// approximated conservatively), where it registers routes, where it leaves for somewhere that outlives the call,
/// and what the methods of the compilation it is handed to do with it (every implementation followed, each
/// summarised once per compilation, <see cref="MaxHelperDepth"/> calls deep, then a CMP0014 warning).
/// </summary>
internal sealed class RouterFlow(RouteAnalysisCache cache, CancellationToken cancellationToken)
{
    /// <summary>How many nested calls of the compilation are followed before the analysis says it gave up.</summary>
    public const int MaxHelperDepth = 6;


    /// <summary>How many method bodies one InitAsync may have analysed (summaries of other plugins' calls are shared).</summary>
    private const int MaxSummaries = 512;

    private readonly HashSet<SummaryKey> _inProgress = [];
    private int _summariesComputed;
    private bool _hitLimit;
    private readonly HashSet<(IMethodSymbol, bool)> _enteredLocalFunctions = new(new EnteredComparer());
    private bool _usedInProgress;

    private KnownSymbols Symbols => cache.Symbols;

    /// <summary>Analyses one InitAsync: its graph, with the router parameter as the root.</summary>
    public List<Finding> AnalyzeMethod(ControlFlowGraph graph, IParameterSymbol router)
    {
        var scope = new Scope(graph, null);
        var aliases = new Aliases(this, scope, Receiver.Plugin, null);
        aliases.Seed(router, Taint.Router);
        var events = new List<Event>();
        AnalyzeGraph(scope, aliases, startsAfterAwait: false, depth: 0, events);

        var findings = new List<Finding>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.LateUse:
                    findings.Add(new Finding(RouteDiagnostics.RouteAfterAwait, e.Location, e.Via is null ? string.Empty : LateDetail(e.Via), e.Via?.Location));
                    break;
                case EventKind.Escape:
                    findings.Add(new Finding(RouteDiagnostics.RouterEscapes, e.Location, e.Via is null ? e.What : ViaDetail(e.Via, e.What), e.Via?.Location));
                    break;
                case EventKind.GaveUp:
                    findings.Add(new Finding(RouteDiagnostics.AnalysisGaveUp, e.Location, e.Via is null ? e.What : ViaDetail(e.Via, e.What), e.Via?.Location));
                    break;
            }
        }

        return findings
            .GroupBy(f => (f.Descriptor.Id, f.Location.SourceSpan))
            .Select(g => g.First())
            .OrderBy(f => f.Location.SourceSpan.Start)
            .ToList();
    }

    private static string LateDetail(Site via)
        => $" through {via.Path}, which it calls here: '{Snippet(via.Location)}' ({Where(via.Location)}) {via.What}";

    private static string ViaDetail(Site via, string what)
        => $"{what}: {via.Path} {via.What} at {Where(via.Location)} ('{Snippet(via.Location)}')";

    private static string Where(Location location)
    {
        var span = location.GetLineSpan();
        return $"{Path.GetFileName(span.Path)} line {span.StartLinePosition.Line + 1}";
    }

    private static string Snippet(Location location)
    {
        var text = location.SourceTree?.GetText().ToString(location.SourceSpan) ?? string.Empty;
        var line = text.Split('\n')[0].Trim();
        return line.Length > 60 ? line.Substring(0, 57) + "..." : line;
    }

    private void AnalyzeGraph(Scope scope, Aliases aliases, bool startsAfterAwait, int depth, List<Event> events)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var graph = scope.Graph;
        aliases.Discover(depth);

        var blocks = graph.Blocks;
        var hasAwait = blocks.Select(b => Operations(b).Any(ContainsAwait)).ToArray();
        var afterAwaitIn = FlowAwaitState(graph, hasAwait, startsAfterAwait);

        for (var i = 0; i < blocks.Length; i++)
        {
            var afterAwait = afterAwaitIn[i];
            foreach (var statement in Operations(blocks[i]))
            {
                AnalyzeStatement(scope, statement, afterAwait, aliases, depth, events);
                afterAwait |= ContainsAwait(statement);
            }
        }
    }

    private void AnalyzeStatement(Scope scope, IOperation statement, bool afterAwait, Aliases aliases, int depth, List<Event> events)
    {
        var awaits = statement.DescendantsAndSelf().OfType<IAwaitOperation>().Select(a => a.Syntax.Span.End).ToList();
        bool AfterAwait(IOperation operation) => afterAwait || awaits.Any(end => end <= operation.Syntax.SpanStart);
        var statementEvents = new List<Event>();

        foreach (var operation in statement.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IInvocationOperation invocation:
                    AnalyzeCall(scope, invocation, invocation.TargetMethod, invocation.Instance, invocation.Arguments, AfterAwait(invocation), aliases, depth, statementEvents);
                    break;

                case IObjectCreationOperation { Constructor: not null } creation:
                    AnalyzeCall(scope, creation, creation.Constructor, null, creation.Arguments, AfterAwait(creation), aliases, depth, statementEvents);
                    break;

                case IDynamicInvocationOperation or IDynamicMemberReferenceOperation or IDynamicObjectCreationOperation
                    when operation.ChildOperations.Any(c => aliases.Of(c) != Taint.None):
                    statementEvents.Add(new Event(AfterAwait(operation) ? EventKind.LateUse : EventKind.Use, operation.Syntax.GetLocation(), "uses it dynamically", null));
                    break;

                case ISimpleAssignmentOperation assignment when aliases.Of(assignment.Value) is var taint && taint != Taint.None:
                    AnalyzeStore(assignment, assignment.Target, assignment.Value, taint, aliases, depth, statementEvents);
                    break;

                case IDeconstructionAssignmentOperation deconstruction when aliases.Of(deconstruction.Value) != Taint.None:
                    foreach (var target in deconstruction.Target.DescendantsAndSelf().Where(t => t is not ITupleOperation and not IDeclarationExpressionOperation))
                    {
                        if (Describe(aliases, target) is { } place)
                        {
                            statementEvents.Add(new Event(EventKind.Escape, deconstruction.Syntax.GetLocation(), $"it is stored in {place}", null));
                        }
                    }

                    break;

                case IEventAssignmentOperation { Adds: true } subscription when aliases.Of(subscription.HandlerValue) != Taint.None:
                    Defer(subscription.HandlerValue, "an event handler", subscription.Syntax.GetLocation(), aliases, depth, statementEvents);
                    break;
            }
        }

        // One CMP0008 per statement: the first use after the await is the one to move. One CMP0009 per place: a
        // callback kept by an object that is itself stored is reported at the callback, the more precise of the two.
        var lateReported = false;
        foreach (var e in statementEvents)
        {
            if (e.Kind == EventKind.LateUse)
            {
                if (lateReported)
                {
                    continue;
                }

                lateReported = true;
            }

            if (e.Kind == EventKind.Escape && statementEvents.Any(other => other != e && other.Kind == EventKind.Escape
                    && e.Location.SourceSpan.Contains(other.Location.SourceSpan) && e.Location.SourceSpan != other.Location.SourceSpan))
            {
                continue;
            }

            events.Add(e);
        }
    }

    private void AnalyzeCall(
        Scope scope,
        IOperation call,
        IMethodSymbol method,
        IOperation? instance,
        ImmutableArray<IArgumentOperation> arguments,
        bool afterAwait,
        Aliases aliases,
        int depth,
        List<Event> events)
    {
        var location = call.Syntax.GetLocation();
        var instanceTaint = instance is null ? Taint.None : aliases.Of(instance);

        // A local function runs here: its body is analysed as if inlined at the call.
        if (method.MethodKind == MethodKind.LocalFunction)
        {
            if (scope.LocalFunctionGraph(method.OriginalDefinition, cancellationToken) is { } local
                && aliases.IsCapturedBy(local.Graph, arguments)
                && _enteredLocalFunctions.Add((method.OriginalDefinition, afterAwait)))
            {
                var inner = aliases.Nested(local);
                SeedParameters(inner, method.OriginalDefinition.Parameters, arguments, aliases);
                AnalyzeGraph(local, inner, afterAwait, depth, events);
            }

            return;
        }

        // Delegates: a holder delegate runs its captured code here; a delegate of unknown origin handed the router is code we cannot see.
        if (method.MethodKind == MethodKind.DelegateInvoke && instance is not null)
        {
            if (instanceTaint != Taint.None)
            {
                RunNow(aliases.RunsOf(instance), afterAwait, location, aliases, depth, events);
            }

            if (arguments.Any(a => aliases.Of(a.Value) != Taint.None))
            {
                if (aliases.DelegateTarget(instance) is var (target, body) && target is not null)
                {
                    if (body is not null)
                    {
                        var inner = aliases.Nested(body);
                        SeedParameters(inner, target.Parameters, arguments, aliases, byPosition: true);
                        AnalyzeGraph(body, inner, afterAwait, depth, events);
                    }
                    else if (IsInSource(target))
                    {
                        FollowCall(target, null, arguments, Taint.None, afterAwait, location, aliases, depth, events, byPosition: true);
                    }
                }
                else
                {
                    events.Add(new Event(EventKind.GaveUp, location, $"it is passed to a delegate ('{Snippet(instance.Syntax.GetLocation())}') whose code Compose cannot see", null));
                }
            }

            return;
        }

        // Lambdas and method groups passed as arguments: when do they run?
        var callInvolvesRouter = instanceTaint != Taint.None || arguments.Any(a => aliases.Of(a.Value) != Taint.None);
        foreach (var argument in arguments)
        {
            if (FunctionOf(argument.Value) is { } function)
            {
                AnalyzeCallback(scope, call, method, argument, function, callInvolvesRouter, afterAwait, aliases, depth, events);
            }
        }

        if (!callInvolvesRouter)
        {
            return;
        }

        var inSource = IsInSource(method);
        if (!inSource)
        {
            AnalyzeExternalCall(call, method, instance, instanceTaint, arguments, afterAwait, aliases, depth, events);
            return;
        }

        FollowCall(method, instance, arguments, instanceTaint, afterAwait, location, aliases, depth, events);
    }

    /// <summary>A call into the compilation: every method it may run is summarised and the summaries applied here.</summary>
    private void FollowCall(IMethodSymbol method, IOperation? instance, ImmutableArray<IArgumentOperation> arguments, Taint instanceTaint, bool afterAwait, Location location, Aliases aliases, int depth, List<Event> events, bool byPosition = false)
    {
        // A receiver whose type is known (a local assigned only `new T()`) runs T's implementation; any other runs one of them all.
        var targets = instance is not null && aliases.ConcreteType(instance) is { } concrete && Resolve(method, concrete) is { } resolved
            ? ImmutableArray.Create(resolved)
            : cache.Targets(method);
        if (targets.IsEmpty)
        {
            events.Add(new Event(EventKind.GaveUp, location, $"it is passed to {Name(method)}, which has no implementation in this compilation", null));
            return;
        }

        foreach (var target in targets)
        {
            if (instanceTaint != Taint.None && !method.IsStatic)
            {
                Apply(Summarize(target, -1, instanceTaint, depth), target, instance, afterAwait, location, aliases, events);
            }

            foreach (var argument in arguments)
            {
                var taint = aliases.Of(argument.Value);
                if (taint == Taint.None || argument.Parameter is null)
                {
                    continue;
                }

                if (FunctionOf(argument.Value) is not null)
                {
                    continue; // Lambdas passed to helpers are judged by AnalyzeCallback.
                }

                var ordinal = byPosition ? arguments.IndexOf(argument) : argument.Parameter.Ordinal;
                Apply(Summarize(target, ordinal, taint, depth), target, instance, afterAwait, location, aliases, events);
            }
        }
    }

    /// <summary>The method a call to <paramref name="method"/> runs on an instance of exactly <paramref name="type"/>.</summary>
    private static IMethodSymbol? Resolve(IMethodSymbol method, ITypeSymbol type)
    {
        method = method.OriginalDefinition;
        if (method.ContainingType?.TypeKind == TypeKind.Interface)
        {
            foreach (var constructed in type.AllInterfaces.Where(i => SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, method.ContainingType.OriginalDefinition)))
            {
                var member = constructed.GetMembers(method.Name).OfType<IMethodSymbol>().FirstOrDefault(m => SymbolEqualityComparer.Default.Equals(m.OriginalDefinition, method));
                if (member is not null && type.FindImplementationForInterfaceMember(member) is IMethodSymbol implementation && !implementation.IsAbstract)
                {
                    return implementation.OriginalDefinition;
                }
            }

            return null;
        }

        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var candidate in current.GetMembers(method.Name).OfType<IMethodSymbol>())
            {
                for (var m = candidate; m is not null; m = m.OverriddenMethod)
                {
                    if (SymbolEqualityComparer.Default.Equals(m.OriginalDefinition, method))
                    {
                        return candidate.IsAbstract ? null : candidate.OriginalDefinition;
                    }
                }
            }
        }

        return null;
    }

    private void Apply(HelperSummary summary, IMethodSymbol target, IOperation? instance, bool afterAwait, Location location, Aliases aliases, List<Event> events)
    {
        if (summary.IsIterator)
        {
            return; // Runs when the sequence is enumerated: the result is a holder whose runs are judged where it is consumed.
        }

        if (summary.LateUse is { } late)
        {
            events.Add(new Event(EventKind.LateUse, location, string.Empty, late));
        }
        else if (summary.FirstUse is { } use)
        {
            events.Add(new Event(afterAwait ? EventKind.LateUse : EventKind.Use, location, string.Empty, use));
        }

        if (summary.Escape is { } escape)
        {
            events.Add(new Event(EventKind.Escape, location, "it is handed to a method that lets it outlive the call", escape));
        }

        if (summary.GaveUp is { } gaveUp)
        {
            events.Add(new Event(EventKind.GaveUp, location, "following the call here", gaveUp));
        }

        if (summary.StoresInReceiver is { } stored && target.MethodKind != MethodKind.Constructor)
        {
            switch (ReceiverOf(instance, aliases))
            {
                case Owner.Local:
                    break; // The local object now holds the router: Discover marked it.
                case Owner.This when aliases.ReceiverMode == Receiver.NotRoot:
                    events.Add(new Event(EventKind.StoresInReceiver, location, string.Empty, stored));
                    break;
                case Owner.This when aliases.ReceiverMode == Receiver.Root:
                    break;
                default:
                    events.Add(new Event(EventKind.Escape, location, "it is handed to a method that keeps it in an object that outlives the call", stored));
                    break;
            }
        }
    }

    /// <summary>A method outside the compilation: a use of the router, a store into a collection, or a consumption of a holder.</summary>
    private void AnalyzeExternalCall(IOperation call, IMethodSymbol method, IOperation? instance, Taint instanceTaint, ImmutableArray<IArgumentOperation> arguments, bool afterAwait, Aliases aliases, int depth, List<Event> events)
    {
        var location = call.Syntax.GetLocation();
        var routerUse = instanceTaint.HasFlag(Taint.Router)
                        || arguments.Any(a => a.Parameter?.RefKind != RefKind.Out && aliases.Of(a.Value).HasFlag(Taint.Router) && FunctionOf(a.Value) is null);

        // Adding to a collection: a local collection becomes a holder (Discover); anything else keeps the router past the call.
        if (instance is not null && instanceTaint == Taint.None && RouterFlowNames.IsCollectionAdder(method.Name)
            && arguments.Any(a => aliases.Of(a.Value) != Taint.None))
        {
            if (OwnerOf(instance, aliases) != Owner.Local)
            {
                var place = Describe(aliases, instance) ?? "a collection";
                events.Add(new Event(EventKind.Escape, location, $"it is added to {place} by {method.ContainingType.Name}.{method.Name}", null));
            }

            return;
        }

        if (routerUse)
        {
            events.Add(new Event(afterAwait ? EventKind.LateUse : EventKind.Use, location, "registers routes", null));
        }

        // A holder that runs code (a delegate, a lazy sequence) handed to an external method: a lazy operator passes it on,
        // a deferring method keeps it, anything else runs it now.
        foreach (var operand in arguments.Select(a => a.Value).Prepend(instance!).Where(o => o is not null))
        {
            var runs = aliases.RunsOf(operand);
            if (runs.Count == 0 || FunctionOf(operand) is not null)
            {
                continue;
            }

            if (ReturnsSequence(method))
            {
                continue; // The result is a holder with the same runs (Aliases.Of).
            }

            if (Symbols.IsDeferring(method, null))
            {
                DeferRuns(runs, $"{method.ContainingType.Name}.{method.Name}", location, aliases, depth, events);
            }
            else
            {
                RunNow(runs, afterAwait, location, aliases, depth, events);
            }
        }
    }

    /// <summary>A lambda or method group passed to a method: run now, run later, or kept by code we cannot see.</summary>
    private void AnalyzeCallback(Scope scope, IOperation call, IMethodSymbol method, IArgumentOperation argument, IOperation function, bool callInvolvesRouter, bool afterAwait, Aliases aliases, int depth, List<Event> events)
    {
        var runs = aliases.RunsOf(function);
        var lambdaScope = function is IFlowAnonymousFunctionOperation lambda ? scope.Lambda(lambda, cancellationToken) : null;
        var parametersTainted = callInvolvesRouter && lambdaScope is not null && ((IFlowAnonymousFunctionOperation)function).Symbol.Parameters.Any(p => MayHold(p.Type));
        if (runs.Count == 0 && !parametersTainted)
        {
            return;
        }

        var location = call.Syntax.GetLocation();
        var name = method.MethodKind == MethodKind.Constructor ? "new " + method.ContainingType.Name : $"{method.ContainingType.Name}.{method.Name}";
        if (Symbols.IsDeferring(method, argument.Parameter))
        {
            DeferRuns(runs, name, function.Syntax.GetLocation(), aliases, depth, events, ownLocation: true);
            return;
        }

        if (IsInSource(method) && argument.Parameter is not null)
        {
            // What the helper does with the delegate: invoke it now, after its await, or keep it.
            foreach (var target in cache.Targets(method))
            {
                var summary = Summarize(target, argument.Parameter.Ordinal, Taint.Holder, depth);
                if (summary.Escape is not null || summary.StoresInReceiver is not null)
                {
                    DeferRuns(runs, Name(target), function.Syntax.GetLocation(), aliases, depth, events, ownLocation: true, keeper: summary.Escape ?? summary.StoresInReceiver);
                }
                else if (summary.LateUse is not null)
                {
                    RunNow(runs, afterAwait: true, location, aliases, depth, events);
                }
                else if (summary.FirstUse is not null)
                {
                    RunNow(runs, afterAwait, location, aliases, depth, events);
                }
                else if (summary.GaveUp is { } gaveUp && runs.Count > 0)
                {
                    events.Add(new Event(EventKind.GaveUp, location, "following the call here", gaveUp));
                }
            }

            return;
        }

        if (ReturnsSequence(method))
        {
            return; // A lazy operator: the lambda runs when the result is enumerated (the result holds the runs).
        }

        if (!IsFrameworkMethod(method) && runs.Count > 0)
        {
            events.Add(new Event(EventKind.GaveUp, function.Syntax.GetLocation(), $"a callback that uses it is passed to {name}, and Compose cannot tell when that runs it", null));
            return;
        }

        // A callback of an ordinary framework method (List.ForEach, Array.ForEach, LINQ aggregates) runs during the call.
        if (lambdaScope is not null)
        {
            var inner = aliases.Nested(lambdaScope);
            if (parametersTainted)
            {
                foreach (var parameter in ((IFlowAnonymousFunctionOperation)function).Symbol.Parameters)
                {
                    inner.Seed(parameter, TaintOfType(parameter.Type));
                }
            }

            AnalyzeGraph(lambdaScope, inner, afterAwait, depth, events);
        }
        else
        {
            RunNow(runs, afterAwait, location, aliases, depth, events);
        }
    }

    private void AnalyzeStore(IOperation assignment, IOperation target, IOperation value, Taint taint, Aliases aliases, int depth, List<Event> events)
    {
        var location = assignment.Syntax.GetLocation();
        switch (OwnerOf(target, aliases))
        {
            case Owner.Local:
                return;
            case Owner.This when aliases.ReceiverMode == Receiver.NotRoot:
                events.Add(new Event(EventKind.StoresInReceiver, location, $"keeps it in {Describe(aliases, target)}", null));
                return;
            case Owner.This when aliases.ReceiverMode == Receiver.Root:
                return;
        }

        var place = Describe(aliases, target) ?? "a location that outlives the call";
        var runs = aliases.RunsOf(value);
        if (taint == Taint.Holder && runs.Count > 0)
        {
            // A delegate or lazy sequence kept for later: a problem if running it registers routes.
            DeferRuns(runs, null, location, aliases, depth, events, ownLocation: true, storedIn: place);
            return;
        }

        events.Add(new Event(EventKind.Escape, location, taint == Taint.Router ? $"it is stored in {place}" : $"an object holding it is stored in {place}", null));
    }

    /// <summary>A handler that runs later: only a problem if running it registers routes or keeps the router further.</summary>
    private void Defer(IOperation handler, string what, Location location, Aliases aliases, int depth, List<Event> events)
        => DeferRuns(aliases.RunsOf(handler), what, location, aliases, depth, events, ownLocation: true);

    private void DeferRuns(IReadOnlyList<Run> runs, string? keptBy, Location location, Aliases aliases, int depth, List<Event> events, bool ownLocation = false, Site? keeper = null, string? storedIn = null)
    {
        foreach (var run in runs)
        {
            var inner = new List<Event>();
            Execute(run, startsAfterAwait: true, location, aliases, depth, inner);
            var offending = inner.FirstOrDefault(e => e.Kind is EventKind.LateUse or EventKind.Escape);
            if (offending is not null)
            {
                var site = offending.Via ?? new Site(offending.Location, "the callback", offending.Kind == EventKind.LateUse ? "uses it" : offending.What);
                var what = storedIn is not null
                    ? $"it is captured by a delegate stored in {storedIn}, which may run after InitAsync returns"
                    : keeper is not null
                        ? $"it is captured by a callback that {keptBy} keeps ({keeper.What} at {Where(keeper.Location)}), which may run after InitAsync returns"
                        : keptBy == "an event handler"
                            ? "it is captured by an event handler, which may run after InitAsync returns"
                            : $"it is captured by a callback passed to {keptBy}, which may run after InitAsync returns";
                events.Add(new Event(EventKind.Escape, location, what, offending.Via is null && offending.Location == location ? null : site));
            }

            events.AddRange(inner.Where(e => e.Kind == EventKind.GaveUp));
        }
    }

    private void RunNow(IReadOnlyList<Run> runs, bool afterAwait, Location location, Aliases aliases, int depth, List<Event> events)
    {
        foreach (var run in runs)
        {
            Execute(run, afterAwait, location, aliases, depth, events);
        }
    }

    private void Execute(Run run, bool startsAfterAwait, Location location, Aliases aliases, int depth, List<Event> events)
    {
        if (run.Lambda is { } lambda && run.Captured is { } captured)
        {
            if (run.Symbol is not IMethodSymbol function || !_enteredLocalFunctions.Add((function, startsAfterAwait)))
            {
                return;
            }

            AnalyzeGraph(lambda, captured.Nested(lambda), startsAfterAwait, depth, events);
            _enteredLocalFunctions.Remove((function, startsAfterAwait));
        }
        else if (run.Summary is { } summary)
        {
            var use = summary.LateUse ?? summary.FirstUse;
            if (use is not null)
            {
                events.Add(new Event(startsAfterAwait || summary.LateUse is not null ? EventKind.LateUse : EventKind.Use, location, string.Empty,
                    summary.IsIterator ? use with { What = "runs when the sequence it returns is enumerated" } : use));
            }

            if (summary.Escape is { } escape)
            {
                events.Add(new Event(EventKind.Escape, location, "it is handed to a method that lets it outlive the call", escape));
            }

            if (summary.GaveUp is { } gaveUp)
            {
                events.Add(new Event(EventKind.GaveUp, location, "following the call here", gaveUp));
            }
        }
        else
        {
            events.Add(new Event(startsAfterAwait ? EventKind.LateUse : EventKind.Use, location, "runs the callback it was given", null));
        }
    }

    /// <summary>Parameters of a local function or lambda receive the router (or a holder) from the arguments of its call.</summary>
    private static void SeedParameters(Aliases inner, ImmutableArray<IParameterSymbol> targetParameters, ImmutableArray<IArgumentOperation> arguments, Aliases outer, bool byPosition = false)
    {
        for (var i = 0; i < arguments.Length; i++)
        {
            var taint = outer.Of(arguments[i].Value);
            var ordinal = byPosition || arguments[i].Parameter is null ? i : arguments[i].Parameter!.Ordinal;
            if (taint != Taint.None && ordinal < targetParameters.Length)
            {
                inner.Seed(targetParameters[ordinal], taint, outer.RunsOf(arguments[i].Value));
            }
        }
    }

    /// <summary>What a method of this compilation does with what it receives in <paramref name="position"/> (-1: the receiver).</summary>
    private HelperSummary Summarize(IMethodSymbol method, int position, Taint taint, int depth)
    {
        method = method.OriginalDefinition;
        var key = new SummaryKey(method, position, taint);
        if (cache.Summaries.TryGetValue(key, out var known))
        {
            return known;
        }

        if (_inProgress.Contains(key))
        {
            _usedInProgress = true;
            return new HelperSummary(); // Recursion: the outer analysis of this method sees the rest.
        }

        var summary = new HelperSummary();
        if (depth >= MaxHelperDepth || _summariesComputed >= MaxSummaries)
        {
            summary.GaveUp = new Site(Declaration(method), Name(method), depth >= MaxHelperDepth
                ? $"is nested deeper than {MaxHelperDepth} calls, where Compose stops following the router"
                : $"is one of more than {MaxSummaries} methods the router reaches, where Compose stops following it");
            _hitLimit = true;
            return summary; // Not cached (nor anything that depends on it): a shallower caller may follow it.
        }

        _summariesComputed++;

        if (position >= method.Parameters.Length)
        {
            return summary;
        }

        if (IsPrimaryConstructor(method))
        {
            summary.StoresInReceiver = PrimaryConstructorKeeps(method, position);
            cache.Summaries.TryAdd(key, summary);
            return summary;
        }

        var graph = method.MethodKind == MethodKind.LocalFunction ? null : SourceGraph(method);
        if (graph is null)
        {
            if (method.MethodKind != MethodKind.Constructor || !method.IsImplicitlyDeclared)
            {
                summary.GaveUp = new Site(Declaration(method), Name(method), "has no body Compose can read");
            }

            cache.Summaries.TryAdd(key, summary);
            return summary;
        }

        _inProgress.Add(key);
        var outerUsedInProgress = _usedInProgress;
        var outerHitLimit = _hitLimit;
        _usedInProgress = false;
        _hitLimit = false;
        try
        {
            var receiver = position == -1 ? Receiver.Root : Receiver.NotRoot;
            var aliases = new Aliases(this, graph, receiver, method);
            if (position >= 0)
            {
                var parameter = method.Parameters[position];
                aliases.Seed(parameter, taint, taint == Taint.Holder && parameter.Type.TypeKind == TypeKind.Delegate ? [new Run(parameter)] : null);
            }

            var events = new List<Event>();
            AnalyzeGraph(graph, aliases, startsAfterAwait: false, depth + 1, events);
            summary.IsIterator = IsIterator(method);
            foreach (var e in events)
            {
                var site = e.Via is null
                    ? new Site(e.Location, Name(method), e.What)
                    : e.Via with { Path = Name(method) + " → " + e.Via.Path };
                switch (e.Kind)
                {
                    case EventKind.Use:
                        summary.FirstUse ??= site;
                        break;
                    case EventKind.LateUse:
                        summary.FirstUse ??= site;
                        summary.LateUse ??= e.Via is null ? site with { What = "runs after " + method.Name + "'s first await" } : site;
                        break;
                    case EventKind.Escape:
                        summary.Escape ??= e.Via is null ? site : site with { What = e.Via.What };
                        break;
                    case EventKind.GaveUp:
                        summary.GaveUp ??= site;
                        break;
                    case EventKind.StoresInReceiver:
                        summary.StoresInReceiver ??= site;
                        break;
                }
            }
        }
        finally
        {
            _inProgress.Remove(key);
        }

        // Only complete answers are shared: one that saw a recursion guard or a limit depends on who asked first.
        if (!_usedInProgress && !_hitLimit)
        {
            cache.Summaries.TryAdd(key, summary);
        }

        _usedInProgress |= outerUsedInProgress;
        _hitLimit |= outerHitLimit;
        return summary;
    }

#pragma warning disable RS1030 // Following the router into a helper's body needs that body's semantic model.
    private Scope? SourceGraph(IMethodSymbol method)
    {
        foreach (var reference in method.DeclaringSyntaxReferences)
        {
            var syntax = reference.GetSyntax(cancellationToken);
            if (!cache.Compilation.ContainsSyntaxTree(syntax.SyntaxTree))
            {
                continue;
            }

            var operation = cache.Compilation.GetSemanticModel(syntax.SyntaxTree).GetOperation(syntax, cancellationToken);
            switch (operation)
            {
                case IMethodBodyOperation { BlockBody: not null } or IMethodBodyOperation { ExpressionBody: not null }:
                    return new Scope(ControlFlowGraph.Create((IMethodBodyOperation)operation, cancellationToken), null);
                case IConstructorBodyOperation body:
                    return new Scope(ControlFlowGraph.Create(body, cancellationToken), null);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a primary constructor keeps the parameter: a record's positional parameter becomes a property, a class's
    /// parameter read by a member body is captured, and a field or property initializer may store it.
    /// </summary>
    private bool IsPrimaryConstructor(IMethodSymbol method)
        => method.MethodKind == MethodKind.Constructor
           && method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is TypeDeclarationSyntax;

    private Site? PrimaryConstructorKeeps(IMethodSymbol method, int ordinal)
    {
        if (method.MethodKind != MethodKind.Constructor
            || method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is not TypeDeclarationSyntax type
            || !cache.Compilation.ContainsSyntaxTree(type.SyntaxTree))
        {
            return null;
        }

        var parameter = method.Parameters[ordinal];
        if (type is RecordDeclarationSyntax && method.ContainingType.GetMembers(parameter.Name).Any(m => m is IPropertySymbol))
        {
            return new Site(parameter.Locations.FirstOrDefault() ?? Location.None, Name(method), $"keeps it in the property '{parameter.Name}'");
        }

        var model = cache.Compilation.GetSemanticModel(type.SyntaxTree);
        foreach (var name in type.DescendantNodes().OfType<IdentifierNameSyntax>().Where(n => n.Identifier.ValueText == parameter.Name))
        {
            if (!SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, cancellationToken).Symbol, parameter)
                || name.FirstAncestorOrSelf<PrimaryConstructorBaseTypeSyntax>() is not null)
            {
                continue;
            }

            var member = name.FirstAncestorOrSelf<MemberDeclarationSyntax>();
            var initializer = name.FirstAncestorOrSelf<EqualsValueClauseSyntax>();
            if (initializer is not null && member is PropertyDeclarationSyntax or FieldDeclarationSyntax)
            {
                var aliases = new Aliases(this, null, Receiver.NotRoot, method);
                aliases.Seed(parameter, TaintOfType(parameter.Type));
                if (aliases.Of(model.GetOperation(initializer.Value, cancellationToken)) == Taint.None)
                {
                    continue; // Read once by an initializer, not kept.
                }
            }

            return new Site(name.GetLocation(), Name(method), "keeps it for later use");
        }

        return null;
    }
#pragma warning restore RS1030

    /// <summary>For each block, whether an await may have run before it starts.</summary>
    private static bool[] FlowAwaitState(ControlFlowGraph graph, bool[] hasAwait, bool startsAfterAwait)
    {
        var blocks = graph.Blocks;
        var afterIn = new bool[blocks.Length];
        var afterOut = new bool[blocks.Length];
        bool RegionAwaits(ControlFlowRegion region)
        {
            for (var b = region.FirstBlockOrdinal; b <= region.LastBlockOrdinal; b++)
            {
                if (hasAwait[b])
                {
                    return true;
                }
            }

            return false;
        }

        for (var changed = true; changed;)
        {
            changed = false;
            for (var i = 0; i < blocks.Length; i++)
            {
                var block = blocks[i];
                var state = i == 0 && startsAfterAwait;
                foreach (var branch in block.Predecessors)
                {
                    state |= afterOut[branch.Source.Ordinal] || branch.FinallyRegions.Any(RegionAwaits);
                }

                // Catch and finally regions are entered from anywhere in their try region.
                if (TryRegionOfHandlerStartingAt(block) is { } tryRegion)
                {
                    for (var t = tryRegion.FirstBlockOrdinal; t <= tryRegion.LastBlockOrdinal; t++)
                    {
                        state |= afterIn[t] || afterOut[t];
                    }
                }

                var output = state || hasAwait[i];
                if (state != afterIn[i] || output != afterOut[i])
                {
                    afterIn[i] = state;
                    afterOut[i] = output;
                    changed = true;
                }
            }
        }

        return afterIn;
    }

    private static ControlFlowRegion? TryRegionOfHandlerStartingAt(BasicBlock block)
    {
        for (var region = block.EnclosingRegion; region is not null && region.FirstBlockOrdinal == block.Ordinal; region = region.EnclosingRegion)
        {
            if (region.Kind is ControlFlowRegionKind.Catch or ControlFlowRegionKind.Finally or ControlFlowRegionKind.Filter or ControlFlowRegionKind.FilterAndHandler)
            {
                var outer = region.Kind == ControlFlowRegionKind.Catch && region.EnclosingRegion?.Kind == ControlFlowRegionKind.FilterAndHandler
                    ? region.EnclosingRegion.EnclosingRegion
                    : region.EnclosingRegion;
                return outer?.NestedRegions.FirstOrDefault(r => r.Kind == ControlFlowRegionKind.Try);
            }
        }

        return null;
    }

    internal static IEnumerable<IOperation> Operations(BasicBlock block)
        => block.BranchValue is null ? block.Operations : block.Operations.Append(block.BranchValue);

    private static bool ContainsAwait(IOperation operation) => operation.DescendantsAndSelf().OfType<IAwaitOperation>().Any();

    internal static IOperation? FunctionOf(IOperation? operation)
    {
        while (operation is IConversionOperation or IDelegateCreationOperation)
        {
            operation = operation is IConversionOperation conversion ? conversion.Operand : ((IDelegateCreationOperation)operation).Target;
        }

        return operation is IFlowAnonymousFunctionOperation or IMethodReferenceOperation ? operation : null;
    }

    internal bool IsSourceMethod(IMethodSymbol method) => IsInSource(method);

    private bool IsInSource(IMethodSymbol method)
        => method.OriginalDefinition.Locations.Any(l => l.IsInSource && l.SourceTree is { } tree && cache.Compilation.ContainsSyntaxTree(tree))
           || (method.ContainingType is { } type && SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, cache.Compilation.Assembly));

    private static bool IsFrameworkMethod(IMethodSymbol method)
    {
        var ns = method.ContainingType?.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        return ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal) || ns.StartsWith("Microsoft.", StringComparison.Ordinal);
    }

    /// <summary>A lazy LINQ operator: it returns an interface sequence (Select, Where, OrderBy), not a materialised collection (ToList, ToArray).</summary>
    internal static bool ReturnsSequence(IMethodSymbol method)
        => method.ReturnType is INamedTypeSymbol { IsGenericType: true, TypeKind: TypeKind.Interface } returned
           && (returned.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T
               || returned.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T))
           && method.ContainingType?.ContainingNamespace?.ToDisplayString() == "System.Linq";

    private bool IsIterator(IMethodSymbol method)
        => method.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken)
            .DescendantNodes(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<YieldStatementSyntax>()
            .Any());

    private static Location Declaration(IMethodSymbol method) => method.Locations.FirstOrDefault() ?? Location.None;

    internal static string Name(IMethodSymbol method) => method.MethodKind switch
    {
        MethodKind.Constructor => "the constructor of " + method.ContainingType.Name,
        MethodKind.LocalFunction or MethodKind.AnonymousFunction => method.Name,
        _ => method.ContainingType is { } type ? type.Name + "." + method.Name : method.Name,
    };

    /// <summary>Whether values of this type can hold a router: route builders, collections, tuples and arrays of them, source types with such fields.</summary>
    internal bool MayHold(ITypeSymbol? type) => type is not null && MayHold(type, 0);

    private bool MayHold(ITypeSymbol type, int level)
    {
        if (level > 4)
        {
            return false;
        }

        if (Symbols.IsRouterType(type))
        {
            return true;
        }

        if (cache.MayHold.TryGetValue(type, out var known))
        {
            return known;
        }

        var result = type switch
        {
            IArrayTypeSymbol array => MayHold(array.ElementType, level + 1),
            INamedTypeSymbol { TypeKind: TypeKind.Delegate } => false,
            INamedTypeSymbol named when named.TypeArguments.Any(t => MayHold(t, level + 1)) => true,
            INamedTypeSymbol named when SymbolEqualityComparer.Default.Equals(named.ContainingAssembly, cache.Compilation.Assembly)
                => named.GetMembers().OfType<IFieldSymbol>().Any(f => !f.IsStatic && MayHold(f.Type, level + 1)),
            _ => false,
        };
        cache.MayHold.TryAdd(type, result);
        return result;
    }

    /// <summary>What a value read out of a holder is, judged by its type.</summary>
    internal Taint TaintOfType(ITypeSymbol? type)
    {
        if (type is null || IsInert(type))
        {
            return Taint.None;
        }

        return Symbols.IsRouterType(type) ? Taint.Router : Taint.Holder;
    }

    /// <summary>
    /// What a member read out of a holder is: the router for a router type; a holder for a type that can hold one
    /// (a collection of groups, a wrapper with a router field) or that says nothing (<c>object</c>, a type parameter);
    /// nothing for any other type (the wrapper's logger, its name).
    /// </summary>
    internal Taint TaintOfMember(ITypeSymbol? type)
    {
        var taint = TaintOfType(type);
        return taint != Taint.Holder
               || MayHold(type)
               || type!.SpecialType == SpecialType.System_Object
               || type.TypeKind is TypeKind.TypeParameter or TypeKind.Dynamic
            ? taint
            : Taint.None;
    }

    private static bool IsInert(ITypeSymbol type)
        => type.SpecialType != SpecialType.None
           || type.TypeKind == TypeKind.Enum
           || (type.IsValueType && type is INamedTypeSymbol { IsGenericType: false, IsTupleType: false } named && named.ContainingAssembly is { } assembly && assembly.Name.StartsWith("System", StringComparison.Ordinal));

    private Owner ReceiverOf(IOperation? instance, Aliases aliases) => instance is null ? Owner.This : OwnerOf(instance, aliases);

    /// <summary>Who owns the storage an operation refers to: a local of this call, this method's receiver, or something that outlives the call.</summary>
    internal Owner OwnerOf(IOperation? operation, Aliases aliases)
    {
        for (var guard = 0; operation is not null && guard < 16; guard++)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    continue;
                case ILocalReferenceOperation or IDiscardOperation or IObjectCreationOperation or IAnonymousObjectCreationOperation or ITupleOperation or IArrayCreationOperation:
                    return Owner.Local;
                case IParameterReferenceOperation parameter:
                    return parameter.Parameter.RefKind == RefKind.None ? Owner.Local : Owner.Outside;
                case IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ImplicitReceiver }:
                    return Owner.Local; // The object an initializer is building.
                case IInstanceReferenceOperation:
                    return Owner.This;
                case IFlowCaptureReferenceOperation capture:
                    operation = aliases.CaptureValue(capture.Id);
                    if (operation is null)
                    {
                        return Owner.Local;
                    }

                    continue;
                case IFieldReferenceOperation { Field.IsStatic: false, Instance: { } instance }:
                    if (aliases.Of(instance) != Taint.None)
                    {
                        return Owner.Local;
                    }

                    // A field of a local struct or object is as local as the object; a field of this is the receiver's.
                    return instance is IInstanceReferenceOperation { ReferenceKind: not InstanceReferenceKind.ImplicitReceiver } ? Owner.This : OwnerOf(instance, aliases);
                case IPropertyReferenceOperation { Property.IsStatic: false, Instance: { } instance }:
                    if (aliases.Of(instance) != Taint.None || OwnerOf(instance, aliases) == Owner.Local)
                    {
                        return Owner.Local;
                    }

                    return instance is IInstanceReferenceOperation ? Owner.This : Owner.Outside;
                case IArrayElementReferenceOperation element:
                    return OwnerOf(element.ArrayReference, aliases) == Owner.Local ? Owner.Local : Owner.Outside;
                default:
                    return Owner.Outside;
            }
        }

        return Owner.Outside;
    }

    internal static string? Describe(Aliases aliases, IOperation target)
    {
        for (var guard = 0; guard < 16; guard++)
        {
            switch (target)
            {
                case IFlowCaptureReferenceOperation capture when aliases.CaptureValue(capture.Id) is { } value:
                    target = value;
                    continue;
                case IConversionOperation conversion:
                    target = conversion.Operand;
                    continue;
                case IFieldReferenceOperation field:
                    return (field.Field.IsStatic ? "the static field '" : "the field '") + (field.Field.AssociatedSymbol?.Name ?? field.Field.Name) + "'";
                case IPropertyReferenceOperation { Property.IsIndexer: true }:
                    return "an indexed collection";
                case IPropertyReferenceOperation property:
                    return (property.Property.IsStatic ? "the static property '" : "the property '") + property.Property.Name + "'";
                case IArrayElementReferenceOperation:
                    return "an array element";
                case IEventReferenceOperation reference:
                    return "the event '" + reference.Event.Name + "'";
                case IParameterReferenceOperation parameter when parameter.Parameter.RefKind != RefKind.None:
                    return "the " + parameter.Parameter.RefKind.ToString().ToLowerInvariant() + " parameter '" + parameter.Parameter.Name + "'";
                case ILocalReferenceOperation or IFlowCaptureReferenceOperation or IDiscardOperation or IParameterReferenceOperation:
                    return null;
                default:
                    return "a location that outlives the call";
            }
        }

        return null;
    }

    internal enum Owner
    {
        Local,
        This,
        Outside,
    }

    private enum EventKind
    {
        Use,
        LateUse,
        Escape,
        GaveUp,
        StoresInReceiver,
    }

    private sealed record Event(EventKind Kind, Location Location, string What, Site? Via);

    private sealed class EnteredComparer : IEqualityComparer<(IMethodSymbol Method, bool AfterAwait)>
    {
        public bool Equals((IMethodSymbol Method, bool AfterAwait) x, (IMethodSymbol Method, bool AfterAwait) y)
            => x.AfterAwait == y.AfterAwait && SymbolEqualityComparer.Default.Equals(x.Method, y.Method);

        public int GetHashCode((IMethodSymbol Method, bool AfterAwait) obj) => SymbolEqualityComparer.Default.GetHashCode(obj.Method) ^ obj.AfterAwait.GetHashCode();
    }

    internal HelperSummary SummaryOf(IMethodSymbol method, int position, Taint taint, int depth) => Summarize(method, position, taint, depth);
}

/// <summary>How the receiver (<c>this</c>) of the analysed graph relates to the router.</summary>
internal enum Receiver
{
    /// <summary>InitAsync itself: <c>this</c> is the plugin, which outlives the call.</summary>
    Plugin,

    /// <summary>A helper that received the router as a parameter: storing it in <c>this</c> makes the receiver a holder.</summary>
    NotRoot,

    /// <summary>A method called on a holder: <c>this</c> holds the router.</summary>
    Root,
}

/// <summary>
/// Code that runs when a holder is invoked or enumerated: a lambda or local function with the aliases it captured,
/// a method's summary (an iterator, a method group), or, inside a helper, the callback its caller passed (opaque).
/// </summary>
internal sealed record Run(ISymbol Symbol, Scope? Lambda = null, Aliases? Captured = null, HelperSummary? Summary = null)
{
    /// <summary>The callback a helper received: what it does is judged at the caller, here only when and whether it runs.</summary>
    public bool IsOpaque => Lambda is null && Summary is null;
}

/// <summary>A control flow graph and the graph it is nested in (local functions and lambdas are looked up outwards).</summary>
internal sealed class Scope(ControlFlowGraph graph, Scope? parent)
{
    public ControlFlowGraph Graph { get; } = graph;

    public Scope? Parent { get; } = parent;

    public Scope? LocalFunctionGraph(IMethodSymbol localFunction, CancellationToken cancellationToken)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope.Graph.LocalFunctions.Contains(localFunction, SymbolEqualityComparer.Default))
            {
                return new Scope(scope.Graph.GetLocalFunctionControlFlowGraph(localFunction, cancellationToken), scope);
            }
        }

        return null;
    }

    public Scope? Lambda(IFlowAnonymousFunctionOperation lambda, CancellationToken cancellationToken)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            try
            {
                return new Scope(scope.Graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), scope);
            }
            catch (ArgumentOutOfRangeException)
            {
                // Not a lambda of this graph: look outwards.
            }
        }

        return null;
    }
}

/// <summary>
/// The values of one graph that are or hold the router: symbols (locals, parameters), flow captures, and the code
/// (<see cref="Run"/>s) that delegate and sequence holders run. Flow-insensitive: a local that ever holds the
/// router is treated as holding it everywhere in the graph.
/// </summary>
internal sealed class Aliases
{
    private readonly RouterFlow _flow;
    private readonly Scope? _scope;
    private readonly IMethodSymbol? _method;
    private readonly Dictionary<ISymbol, Taint> _symbols;
    private readonly Dictionary<ISymbol, List<Run>> _symbolRuns;
    private readonly Dictionary<ISymbol, (IMethodSymbol? Symbol, Scope? Body)> _delegateTargets;
    private readonly Dictionary<CaptureId, Taint> _captures = [];
    private readonly Dictionary<CaptureId, List<Run>> _captureRuns = [];
    private readonly Dictionary<CaptureId, IOperation> _captureValues = [];
    private readonly Dictionary<IOperation, IReadOnlyList<Run>> _lambdaRuns = [];
    private readonly Dictionary<ILocalSymbol, ITypeSymbol?> _createdTypes = new(SymbolEqualityComparer.Default);
    private int _depth;

    public Aliases(RouterFlow flow, Scope? scope, Receiver receiver, IMethodSymbol? method)
        : this(flow, scope, receiver, method, new(SymbolEqualityComparer.Default), new(SymbolEqualityComparer.Default), new(SymbolEqualityComparer.Default))
    {
    }

    private Aliases(
        RouterFlow flow,
        Scope? scope,
        Receiver receiver,
        IMethodSymbol? method,
        Dictionary<ISymbol, Taint> symbols,
        Dictionary<ISymbol, List<Run>> symbolRuns,
        Dictionary<ISymbol, (IMethodSymbol?, Scope?)> delegateTargets)
    {
        _flow = flow;
        _scope = scope;
        ReceiverMode = receiver;
        _method = method;
        _symbols = symbols;
        _symbolRuns = symbolRuns;
        _delegateTargets = delegateTargets;
    }

    public Receiver ReceiverMode { get; }

    private static readonly IReadOnlyList<Run> NoRuns = [];

    /// <summary>The aliases of a nested graph (lambda, local function): the symbols it captures, its own flow captures.</summary>
    public Aliases Nested(Scope scope)
        => new(_flow, scope, ReceiverMode, _method,
            new(_symbols, SymbolEqualityComparer.Default),
            _symbolRuns.ToDictionary(p => p.Key, p => new List<Run>(p.Value), SymbolEqualityComparer.Default),
            new(_delegateTargets, SymbolEqualityComparer.Default));

    public void Seed(ISymbol symbol, Taint taint, IEnumerable<Run>? runs = null)
    {
        if (taint == Taint.None)
        {
            return;
        }

        _symbols[symbol] = _symbols.TryGetValue(symbol, out var known) ? known | taint : taint;
        if (runs is not null)
        {
            AddRuns(_symbolRuns, symbol, runs);
        }
    }

    /// <summary>Finds every local and flow capture that is assigned, or comes to hold, the router, until nothing changes.</summary>
    public void Discover(int depth)
    {
        _depth = depth;
        if (_scope is null)
        {
            return;
        }

        var operations = _scope.Graph.Blocks.SelectMany(RouterFlow.Operations).SelectMany(o => o.DescendantsAndSelf()).ToList();
        foreach (var capture in operations.OfType<IFlowCaptureOperation>())
        {
            if (!_captureValues.ContainsKey(capture.Id))
            {
                _captureValues[capture.Id] = capture.Value;
            }
        }

        foreach (var assignment in operations.OfType<ISimpleAssignmentOperation>())
        {
            if (assignment.Target is ILocalReferenceOperation assigned)
            {
                var created = CreatedType(assignment.Value);
                _createdTypes[assigned.Local] = _createdTypes.TryGetValue(assigned.Local, out var known) && !SymbolEqualityComparer.Default.Equals(known, created) ? null : created;
            }

            if (assignment.Target is ILocalReferenceOperation local && RouterFlow.FunctionOf(assignment.Value) is { } function)
            {
                _delegateTargets[local.Local] = function switch
                {
                    IFlowAnonymousFunctionOperation lambda => (lambda.Symbol, _scope.Lambda(lambda, CancellationToken.None)),
                    IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference => (reference.Method, _scope.LocalFunctionGraph(reference.Method.OriginalDefinition, CancellationToken.None)),
                    IMethodReferenceOperation reference => (reference.Method, null),
                    _ => (null, null),
                };
            }
        }

        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var operation in operations)
            {
                switch (operation)
                {
                    case ISimpleAssignmentOperation assignment when Of(assignment.Value) is var taint && taint != Taint.None:
                        changed |= MarkTarget(assignment.Target, taint, RunsOf(assignment.Value));
                        break;

                    case IFlowCaptureOperation capture when Of(capture.Value) is var taint && taint != Taint.None:
                        changed |= Mark(capture.Id, taint, RunsOf(capture.Value));
                        break;

                    case IDeconstructionAssignmentOperation deconstruction when Of(deconstruction.Value) != Taint.None:
                        foreach (var target in deconstruction.Target.DescendantsAndSelf().OfType<ILocalReferenceOperation>())
                        {
                            changed |= MarkTarget(target, _flow.TaintOfType(target.Type), NoRuns);
                        }

                        break;

                    case IInvocationOperation invocation:
                        changed |= DiscoverCall(invocation);
                        break;
                }
            }
        }
    }

    private bool DiscoverCall(IInvocationOperation invocation)
    {
        var changed = false;
        var instanceTaint = Of(invocation.Instance);
        var argumentTaint = invocation.Arguments.Aggregate(Taint.None, (t, a) => t | Of(a.Value));
        if (instanceTaint == Taint.None && argumentTaint == Taint.None)
        {
            return false;
        }

        // out and ref arguments of a call that involves the router may receive it (TryGetValue, TryPop, a helper).
        foreach (var argument in invocation.Arguments.Where(a => a.Parameter?.RefKind is RefKind.Out or RefKind.Ref))
        {
            changed |= MarkTarget(argument.Value, _flow.TaintOfType(argument.Value.Type), NoRuns);
        }

        // A collection of this call, or an object whose method keeps the router in a field, now holds it.
        var method = invocation.TargetMethod;
        if (invocation.Instance is { } instance && instanceTaint == Taint.None && argumentTaint != Taint.None
            && _flow.OwnerOf(instance, this) == RouterFlow.Owner.Local)
        {
            var keeps = RouterFlowNames.IsCollectionAdder(method.Name) && !_flow.IsSourceMethod(method);
            if (!keeps && _flow.IsSourceMethod(method))
            {
                foreach (var argument in invocation.Arguments)
                {
                    var taint = Of(argument.Value);
                    if (taint != Taint.None && argument.Parameter is not null
                        && _flow.SummaryOf(method, argument.Parameter.Ordinal, taint, _depth).StoresInReceiver is not null)
                    {
                        keeps = true;
                    }
                }
            }

            if (keeps)
            {
                var runs = invocation.Arguments.SelectMany(a => RunsOf(a.Value)).ToList();
                changed |= MarkTarget(instance, Taint.Holder, runs);
            }
        }

        return changed;
    }

    /// <summary>Marks where a value goes: a local or capture directly, or the local object whose member or element it is stored in.</summary>
    private bool MarkTarget(IOperation target, Taint taint, IReadOnlyList<Run> runs)
    {
        if (taint == Taint.None)
        {
            return false;
        }

        for (var guard = 0; guard < 16; guard++)
        {
            switch (target)
            {
                case IConversionOperation conversion:
                    target = conversion.Operand;
                    continue;
                case ILocalReferenceOperation local:
                    return Mark(local.Local, taint, runs);
                case IDeclarationExpressionOperation declaration:
                    target = declaration.Expression;
                    continue;
                case IParameterReferenceOperation { Parameter.RefKind: RefKind.None } parameter:
                    return Mark(parameter.Parameter, taint, runs);
                case IFlowCaptureReferenceOperation capture:
                    var captured = Mark(capture.Id, Taint.Holder, runs);
                    if (_captureValues.TryGetValue(capture.Id, out var value) && value is ILocalReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation or IArrayElementReferenceOperation)
                    {
                        captured |= MarkTarget(value, Taint.Holder, runs);
                    }

                    return captured;
                case IFieldReferenceOperation { Instance: { } instance }:
                    target = instance;
                    taint = Taint.Holder;
                    continue;
                case IPropertyReferenceOperation { Instance: { } instance }:
                    target = instance;
                    taint = Taint.Holder;
                    continue;
                case IArrayElementReferenceOperation element:
                    target = element.ArrayReference;
                    taint = Taint.Holder;
                    continue;
                default:
                    return false;
            }
        }

        return false;
    }

    private bool Mark(ISymbol symbol, Taint taint, IReadOnlyList<Run> runs)
    {
        var before = _symbols.TryGetValue(symbol, out var known) ? known : Taint.None;
        _symbols[symbol] = before | taint;
        var added = runs.Count > 0 && AddRuns(_symbolRuns, symbol, runs);
        return (before | taint) != before || added;
    }

    private bool Mark(CaptureId capture, Taint taint, IReadOnlyList<Run> runs)
    {
        var before = _captures.TryGetValue(capture, out var known) ? known : Taint.None;
        _captures[capture] = before | taint;
        var added = runs.Count > 0 && AddRuns(_captureRuns, capture, runs);
        return (before | taint) != before || added;
    }

    private static bool AddRuns<TKey>(Dictionary<TKey, List<Run>> table, TKey key, IEnumerable<Run> runs)
        where TKey : notnull
    {
        if (!table.TryGetValue(key, out var list))
        {
            table[key] = list = [];
        }

        var added = false;
        foreach (var run in runs)
        {
            if (!list.Contains(run))
            {
                list.Add(run);
                added = true;
            }
        }

        return added;
    }

    /// <summary>The exact type of the object a value refers to, when it is known to come from one <c>new T()</c>.</summary>
    public ITypeSymbol? ConcreteType(IOperation operation)
    {
        var created = CreatedType(operation);
        if (created is not null)
        {
            return created;
        }

        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation is ILocalReferenceOperation local && _createdTypes.TryGetValue(local.Local, out var type) ? type : null;
    }

    private ITypeSymbol? CreatedType(IOperation? operation)
    {
        for (var guard = 0; guard < 8; guard++)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    continue;
                case IFlowCaptureReferenceOperation capture:
                    operation = CaptureValue(capture.Id);
                    continue;
                case IObjectCreationOperation creation:
                    return creation.Type;
                default:
                    return null;
            }
        }

        return null;
    }

    public IOperation? CaptureValue(CaptureId id) => _captureValues.TryGetValue(id, out var value) ? value : null;

    /// <summary>The lambda or method a delegate local was assigned, if it was assigned one in this graph.</summary>
    public (IMethodSymbol? Symbol, Scope? Body) DelegateTarget(IOperation instance)
    {
        while (instance is IConversionOperation conversion)
        {
            instance = conversion.Operand;
        }

        if (instance is IFlowCaptureReferenceOperation capture && CaptureValue(capture.Id) is { } value)
        {
            return DelegateTarget(value);
        }

        return instance is ILocalReferenceOperation local && _delegateTargets.TryGetValue(local.Local, out var target) ? target : (null, null);
    }

    /// <summary>Whether the value is, or holds, the router.</summary>
    public Taint Of(IOperation? operation)
    {
        switch (operation)
        {
            case null:
                return Taint.None;
            case IConversionOperation conversion:
                var operand = Of(conversion.Operand);
                return operand == Taint.Holder && _flow.TaintOfType(conversion.Type) == Taint.Router ? Taint.Router : operand;
            case IParameterReferenceOperation parameter:
                if (_symbols.TryGetValue(parameter.Parameter, out var p))
                {
                    return p;
                }

                // A method of a holder reads what its object keeps: a primary constructor parameter (or an extension block's receiver).
                return ReceiverMode == Receiver.Root && parameter.Parameter.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor } or INamedTypeSymbol
                    ? _flow.TaintOfMember(parameter.Type)
                    : Taint.None;
            case ILocalReferenceOperation local:
                return _symbols.TryGetValue(local.Local, out var l) ? l : Taint.None;
            case IFlowCaptureReferenceOperation capture:
                return _captures.TryGetValue(capture.Id, out var c) ? c : Taint.None;
            case IInstanceReferenceOperation:
                return ReceiverMode == Receiver.Root ? Taint.Holder : Taint.None;
            case IFieldReferenceOperation field:
                return Of(field.Instance) != Taint.None ? _flow.TaintOfMember(field.Type) : Taint.None;
            case IPropertyReferenceOperation property:
                var owner = Of(property.Instance);
                if (owner == Taint.Router)
                {
                    return _flow.TaintOfType(property.Type) == Taint.Router || property.Property.Name == "DataSources" ? Taint.Router : Taint.None;
                }

                return owner != Taint.None || property.Arguments.Any(a => Of(a.Value) == Taint.Holder) ? _flow.TaintOfMember(property.Type) : Taint.None;
            case IArrayElementReferenceOperation element:
                return Of(element.ArrayReference) != Taint.None ? _flow.TaintOfType(element.Type) : Taint.None;
            case IInvocationOperation invocation:
                return OfCall(invocation);
            case IObjectCreationOperation creation:
                if (!creation.Arguments.Any(a => Of(a.Value) != Taint.None) && Of(creation.Initializer) == Taint.None)
                {
                    return Taint.None;
                }

                return _flow.TaintOfType(creation.Type) == Taint.Router ? Taint.Router : Taint.Holder;
            case IFlowAnonymousFunctionOperation or IDelegateCreationOperation or IMethodReferenceOperation:
                return RunsOf(operation).Count > 0 ? Taint.Holder : Taint.None;
            case IAwaitOperation:
                return Taint.None;
            default:
                if (operation.Type is not { } type || _flow.TaintOfType(type) == Taint.None)
                {
                    return Taint.None;
                }

                // Tuples, arrays, collection expressions, anonymous objects, initializers: they hold what they are made of.
                return operation.ChildOperations.Any(child => Of(child) != Taint.None) ? _flow.TaintOfType(type) : Taint.None;
        }
    }

    private Taint OfCall(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        var instance = Of(invocation.Instance);
        var arguments = invocation.Arguments.Aggregate(Taint.None, (t, a) => t | Of(a.Value));
        if ((instance | arguments) == Taint.None)
        {
            return Taint.None;
        }

        var result = _flow.TaintOfType(invocation.Type);
        if (result != Taint.Holder)
        {
            return result;
        }

        // A method of the compilation (a fluent registrar returning itself, a factory) or a read out of a holder.
        return _flow.IsSourceMethod(method) || ((instance | arguments) & Taint.Holder) != 0 || _flow.MayHold(invocation.Type)
            ? Taint.Holder
            : Taint.None;
    }

    /// <summary>The code a holder runs when it is invoked or enumerated.</summary>
    public IReadOnlyList<Run> RunsOf(IOperation? operation)
    {
        switch (operation)
        {
            case null:
                return NoRuns;
            case IConversionOperation conversion:
                return RunsOf(conversion.Operand);
            case IDelegateCreationOperation creation:
                return RunsOf(creation.Target);
            case ILocalReferenceOperation local:
                return _symbolRuns.TryGetValue(local.Local, out var l) ? l : NoRuns;
            case IParameterReferenceOperation parameter:
                return _symbolRuns.TryGetValue(parameter.Parameter, out var p) ? p : NoRuns;
            case IFlowCaptureReferenceOperation capture:
                return _captureRuns.TryGetValue(capture.Id, out var c) ? c : NoRuns;
            case IFlowAnonymousFunctionOperation lambda:
                if (!_lambdaRuns.TryGetValue(lambda, out var runs))
                {
                    // Only a capture is remembered: a lambda that captures nothing yet may capture an alias Discover finds later.
                    var body = _scope?.Lambda(lambda, CancellationToken.None);
                    runs = body is not null && IsCapturedBy(body.Graph) ? [new Run(lambda.Symbol, body, this)] : NoRuns;
                    if (runs.Count > 0)
                    {
                        _lambdaRuns[lambda] = runs;
                    }
                }

                return runs;
            case IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference:
                var localFunction = _scope?.LocalFunctionGraph(reference.Method.OriginalDefinition, CancellationToken.None);
                return localFunction is not null && IsCapturedBy(localFunction.Graph) ? [new Run(reference.Method, localFunction, this)] : NoRuns;
            case IMethodReferenceOperation { Instance: { } instance } reference when Of(instance) != Taint.None && _flow.IsSourceMethod(reference.Method):
                return [new Run(reference.Method, Summary: _flow.SummaryOf(reference.Method, -1, Of(instance), _depth))];
            case IInvocationOperation invocation:
                return RunsOfCall(invocation);
            default:
                return NoRuns;
        }
    }

    private IReadOnlyList<Run> RunsOfCall(IInvocationOperation invocation)
    {
        var method = invocation.TargetMethod;
        if (_flow.IsSourceMethod(method))
        {
            // An iterator of the compilation: its body runs when the sequence is enumerated.
            List<Run>? runs = null;
            foreach (var argument in invocation.Arguments)
            {
                var taint = Of(argument.Value);
                if (taint != Taint.None && argument.Parameter is not null)
                {
                    var summary = _flow.SummaryOf(method, argument.Parameter.Ordinal, taint, _depth);
                    if (summary.IsIterator)
                    {
                        (runs ??= []).Add(new Run(method, Summary: summary));
                    }
                }
            }

            return runs ?? NoRuns;
        }

        // A lazy operator (Select, Where, ...) passes on what its source and its lambdas run.
        if (RouterFlow.ReturnsSequence(method))
        {
            var runs = RunsOf(invocation.Instance).Concat(invocation.Arguments.SelectMany(a => RunsOf(a.Value))).Distinct().ToList();
            return runs.Count > 0 ? runs : NoRuns;
        }

        // Enumerating: GetEnumerator passes the runs on to the enumerator.
        if (method.Name == "GetEnumerator" && invocation.Instance is { } source)
        {
            return RunsOf(source);
        }

        return NoRuns;
    }

    /// <summary>Whether a nested graph (lambda or local function) refers to the router, or a holder of it, through a captured symbol.</summary>
    public bool IsCapturedBy(ControlFlowGraph graph, ImmutableArray<IArgumentOperation> arguments = default)
    {
        if (!arguments.IsDefault && arguments.Any(a => Of(a.Value) != Taint.None))
        {
            return true;
        }

        foreach (var operation in graph.Blocks.SelectMany(RouterFlow.Operations).SelectMany(o => o.DescendantsAndSelf()))
        {
            switch (operation)
            {
                case IParameterReferenceOperation or ILocalReferenceOperation or IInstanceReferenceOperation when Of(operation) != Taint.None:
                    return true;
                case IFlowAnonymousFunctionOperation nested when IsCapturedBy(graph.GetAnonymousFunctionControlFlowGraph(nested)):
                    return true;
            }
        }

        foreach (var localFunction in graph.LocalFunctions)
        {
            if (IsCapturedBy(graph.GetLocalFunctionControlFlowGraph(localFunction)))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Names of framework methods the analysis recognises.</summary>
internal static class RouterFlowNames
{
    private static readonly HashSet<string> CollectionAdders = new(StringComparer.Ordinal)
    {
        "Add", "AddRange", "Insert", "InsertRange", "Enqueue", "Push", "TryAdd", "GetOrAdd", "AddOrUpdate", "Set", "SetValue", "TryAddSingleton", "AddFirst", "AddLast", "TryPush", "Post", "SendAsync", "TryWrite", "WriteAsync",
    };

    public static bool IsCollectionAdder(string name) => CollectionAdders.Contains(name);
}
