// The app's own service: a read-only projection on the on-prem products, served as OData V4.
using { API_SAMPLE_SRV as erp } from './external/API_SAMPLE_SRV';

service CatalogService {
  @readonly entity Products as projection on erp.Products { ProductID, Name, Category, Price, Currency };
}
