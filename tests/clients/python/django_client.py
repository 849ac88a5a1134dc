"""Django's ORM against the server the runner started: an app's migrations
(migrate, then a second migration altering the model), queries, aggregates,
transactions, select_for_update, bulk operations, server-side iteration."""

import os
import sys
import tempfile

import django
from django.conf import settings

from harness import DB, HOST, PASSWORD, PORT, STREAM_ROWS, USER, check, eq, finish, max_rss_mb

APP_DIR = tempfile.mkdtemp(prefix="django-suite-")
os.makedirs(os.path.join(APP_DIR, "shop", "migrations"))
for f in ("shop/__init__.py", "shop/migrations/__init__.py"):
    open(os.path.join(APP_DIR, f), "w").close()
with open(os.path.join(APP_DIR, "shop", "models.py"), "w") as fh:
    fh.write('''
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=50, unique=True)
    created = models.DateTimeField(auto_now_add=True)


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=100, db_index=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    tags = models.JSONField(default=dict)
    uid = models.UUIDField(null=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(check=models.Q(price__gte=0), name="price_not_negative"),
            models.UniqueConstraint(fields=["category", "name"], name="one_name_per_category"),
        ]
''')
sys.path.insert(0, APP_DIR)

settings.configure(
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": DB, "USER": USER,
        "PASSWORD": PASSWORD, "HOST": HOST, "PORT": str(PORT),
        "OPTIONS": {"sslmode": "disable"},
    }},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "shop"],
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
)
django.setup()

from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.db.models import Count, F, Q, Sum  # noqa: E402


@check
def makemigrations_and_migrate():
    call_command("makemigrations", "shop", verbosity=0)
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        tables = connection.introspection.table_names(c)
    for t in ("shop_category", "shop_product", "auth_user", "django_migrations",
              "django_content_type"):
        assert t in tables, (t, tables)


@check
def introspection():
    with connection.cursor() as c:
        desc = connection.introspection.get_table_description(c, "shop_product")
        cols = [d.name for d in desc]
        eq(cols, ["id", "name", "price", "stock", "tags", "uid", "active", "category_id"])
        cons = connection.introspection.get_constraints(c, "shop_product")
    assert any(v["check"] for v in cons.values()), cons
    assert any(v["unique"] and v["columns"] == ["category_id", "name"] for v in cons.values()), cons
    assert any(v["foreign_key"] == ("shop_category", "id") for v in cons.values()), cons
    assert any(v["primary_key"] for v in cons.values()), cons


@check
def second_migration_alters_model():
    models_py = os.path.join(APP_DIR, "shop", "models.py")
    with open(models_py) as fh:
        src = fh.read()
    src = src.replace("    active = models.BooleanField(default=True)\n",
                      "    active = models.BooleanField(default=True)\n"
                      "    note = models.TextField(blank=True, default='')\n"
                      "    weight = models.FloatField(null=True)\n")
    with open(models_py, "w") as fh:
        fh.write(src)
    import importlib

    import shop.models
    from django.apps import apps
    apps.all_models["shop"].clear()
    apps.clear_cache()
    importlib.reload(shop.models)
    call_command("makemigrations", "shop", verbosity=0)
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        cols = [d.name for d in connection.introspection.get_table_description(c, "shop_product")]
    assert "note" in cols and "weight" in cols, cols
    call_command("migrate", "shop", "0001", verbosity=0)
    with connection.cursor() as c:
        cols = [d.name for d in connection.introspection.get_table_description(c, "shop_product")]
    assert "note" not in cols, cols
    call_command("migrate", verbosity=0)


@check
def orm_queries():
    from shop.models import Category, Product
    import uuid
    books = Category.objects.create(name="books")
    toys = Category.objects.create(name="toys")
    Product.objects.bulk_create([
        Product(category=books, name=f"book {i}", price=Decimal(i) + Decimal("0.99"), stock=i,
                tags={"n": i}, uid=uuid.uuid4() if i % 2 else None)
        for i in range(1, 21)
    ] + [Product(category=toys, name="ball", price=Decimal("3.50"), stock=0, active=False)])
    eq(Product.objects.count(), 21)
    eq(Product.objects.filter(category__name="books", stock__gte=10).count(), 11)
    agg = Category.objects.annotate(n=Count("products"), total=Sum("products__stock")) \
        .order_by("name").values_list("name", "n", "total")
    eq(list(agg), [("books", 20, 210), ("toys", 1, 0)])
    eq(Product.objects.filter(tags__n=5).get().name, "book 5")
    eq(Product.objects.filter(Q(name__startswith="book 1") | Q(active=False)).count(), 12)
    eq(Product.objects.filter(name__icontains="BALL").first().price, Decimal("3.50"))
    Product.objects.filter(category=books).update(stock=F("stock") + 1)
    eq(Product.objects.get(name="book 3").stock, 4)
    eq(list(Product.objects.order_by("-price").values_list("name", flat=True)[:2]),
       ["book 20", "book 19"])
    eq(Product.objects.filter(uid__isnull=True).count(), 11)
    p = Product.objects.select_related("category").get(name="book 7")
    eq(p.category.name, "books")
    eq(Product.objects.filter(pk__in=Product.objects.filter(stock__lt=3).values("pk")).count(), 2)
    Product.objects.filter(name="ball").delete()
    eq(Product.objects.count(), 20)


@check
def transactions_and_constraints():
    from shop.models import Category, Product
    books = Category.objects.get(name="books")
    try:
        with transaction.atomic():
            Product.objects.create(category=books, name="book 1", price=1)
    except IntegrityError as e:
        eq(e.__cause__.sqlstate, "23505")
    else:
        raise AssertionError("duplicate accepted")
    try:
        with transaction.atomic():
            Product.objects.create(category=books, name="bad", price=-1)
    except IntegrityError as e:
        eq(e.__cause__.sqlstate, "23514")
    with transaction.atomic():
        Product.objects.create(category=books, name="kept", price=1)
        try:
            with transaction.atomic():
                Product.objects.create(category=books, name="dropped", price=1)
                raise RuntimeError
        except RuntimeError:
            pass
    eq(Product.objects.filter(name__in=["kept", "dropped"]).count(), 1)
    with transaction.atomic():
        p = Product.objects.select_for_update().get(name="kept")
        p.stock = 99
        p.save()
    eq(Product.objects.get(name="kept").stock, 99)


@check
def auth_user_and_content_types():
    from django.contrib.auth.models import Group, Permission, User
    u = User.objects.create_user("alice", "a@example.com", "pw-1234")
    g = Group.objects.create(name="staff")
    g.permissions.add(*Permission.objects.filter(codename__startswith="view_")[:3])
    u.groups.add(g)
    eq(User.objects.get(username="alice").check_password("pw-1234"), True)
    eq(len(u.get_group_permissions()), 3)


@check
def iterator_streams_with_server_side_cursor():
    before = max_rss_mb()
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS big_rows AS SELECT g AS id FROM generate_series(1, %s) g",
                  [STREAM_ROWS])
    from django.db import models

    class BigRow(models.Model):
        id = models.IntegerField(primary_key=True)

        class Meta:
            app_label = "shop"
            db_table = "big_rows"
            managed = False

    n = 0
    with transaction.atomic():
        for _ in BigRow.objects.all().iterator(chunk_size=5000):
            n += 1
    eq(n, STREAM_ROWS)
    grew = max_rss_mb() - before
    assert grew < 150, f"client memory grew {grew:.0f} MB"


finish()
